/* Xtensa LX106 (call0 ABI) start-up for QEMU `-M sim`: reset jump, exception vectors that end the run
 * with status 255 (unaligned access, illegal instruction, ...), stack, .data copy, .bss clear, main(). */
    .section .vectors, "ax"
    .align 1024
    .global _vector_base
_vector_base:
    j _start        /* QEMU's sim machine starts at the ROM base (0x50000000), not at the ELF entry */
    .org 0x10       /* debug */
    j _fault
    .org 0x20       /* NMI */
    j _fault
    .org 0x30       /* kernel exception */
    j _fault
    .org 0x50       /* user exception */
    j _fault
    .org 0x70       /* double exception */
    j _fault

    .text
    .literal_position
    .align 4
    .global _start
_start:
    movi a0, _vector_base
    wsr a0, vecbase
    movi a0, 0x20           /* PS: UM = 1, EXCM = 0, INTLEVEL = 0 (exceptions reach the user vector) */
    wsr a0, ps
    rsync
    movi a1, _estack
    movi a2, _sidata
    movi a3, _sdata
    movi a4, _edata
1:  bgeu a3, a4, 2f
    l32i a5, a2, 0
    s32i a5, a3, 0
    addi a2, a2, 4
    addi a3, a3, 4
    j 1b
2:  movi a3, _sbss
    movi a4, _ebss
    movi a5, 0
3:  bgeu a3, a4, 4f
    s32i a5, a3, 0
    addi a3, a3, 4
    j 3b
4:  call0 main
    mov a3, a2              /* exit(main()) */
    movi a2, 1
    simcall
5:  j 5b

    .align 4
_fault:
    movi a2, 1              /* exit(255) */
    movi a3, 255
    simcall
    j _fault
