/* `pio test` builds src (sketches/platformio/main.cpp, test_build_src = yes), which prints
 * sample_<n>:PASS/FAIL; the custom runner turns those lines into test cases. Nothing else is needed. */
typedef int td_test_demo_placeholder;
