# PlatformIO extra_scripts pre-step of the repo's root platformio.ini: generate the model library, the
# runtime library and include/td_model.h + td_samples.h from the options `custom_tinydeploy_model`,
# `custom_tinydeploy_samples` (.npy/.npz; an .npz key with `custom_tinydeploy_samples_key`) and
# `custom_tinydeploy_n_samples`. Runs inside PlatformIO's Python (the tinydeploy venv).
# Writes only into build/pio-demo/ (lib_dir/include_dir of the root platformio.ini), never elsewhere.
import os
import sys

Import("env")  # noqa: F821 - provided by SCons

root = env.subst("$PROJECT_DIR")  # noqa: F821
sys.path.insert(0, root)

import numpy as np  # noqa: E402

from tinydeploy.errors import TinyDeployError  # noqa: E402
from tinydeploy.target.build import generate_sources  # noqa: E402

config = env.GetProjectConfig()  # noqa: F821
lib_dir = config.get("platformio", "lib_dir")
include_dir = config.get("platformio", "include_dir")
generated = os.path.join(root, "build", "pio-demo")
for d in (lib_dir, include_dir):
    if not os.path.abspath(d).startswith(generated + os.sep):
        sys.stderr.write("Error: tinydeploy pre-step: %s is outside %s; refusing to write there\n" % (d, generated))
        env.Exit(1)  # noqa: F821

model = os.path.join(root, env.GetProjectOption("custom_tinydeploy_model"))  # noqa: F821
samples = env.GetProjectOption("custom_tinydeploy_samples", "")  # noqa: F821
key = env.GetProjectOption("custom_tinydeploy_samples_key", "")  # noqa: F821
n = int(env.GetProjectOption("custom_tinydeploy_n_samples", "3"))  # noqa: F821
if not samples:
    samples = None  # random ones
elif key:
    samples = np.load(os.path.join(root, samples))[key][:n]
else:
    samples = os.path.join(root, samples)
try:
    wrote = generate_sources(model, os.path.abspath(include_dir), os.path.abspath(lib_dir),
                             samples=samples, n_samples=n)
except TinyDeployError as exc:
    sys.stderr.write("Error: tinydeploy: %s\n" % exc)
    env.Exit(1)  # noqa: F821
if wrote:
    print("tinydeploy: generated %s sources into %s" % (os.path.basename(model), lib_dir))
    # PlatformIO hashed the file layout of lib_dir/include_dir before this step ran; store the hash of
    # the new layout, or the next `pio run` would see a "changed project" and rebuild everything.
    try:
        from platformio.project.helpers import compute_project_checksum

        checksum_file = os.path.join(config.get("platformio", "build_dir"), "project.checksum")
        if os.path.isfile(checksum_file):
            with open(checksum_file, "w") as fh:
                fh.write(compute_project_checksum(config))
    except Exception:  # noqa: BLE001 - only an optimisation: the worst case is one full rebuild
        pass
