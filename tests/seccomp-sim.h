/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A classic BPF interpreter for seccomp programs, as the kernel runs them
 * (kernel/seccomp.c accepts only these instructions): it tells what a filter
 * answers for a syscall of any architecture, also where the machine cannot
 * make that syscall (no ia32 entry, another CPU). Header-only: the unit
 * tests and the static probe of the integration tests both include it. */

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SECCOMP_SIM_INVALID UINT32_C(0xffffffff)

/* The 32-bit word at off of the seccomp_data, as BPF_LD|BPF_W|BPF_ABS reads it. */
static inline int seccomp_sim_load(const struct seccomp_data *d, uint32_t off, uint32_t *ret) {
        if (off % 4 != 0 || off > sizeof *d - 4)
                return -1;
        memcpy(ret, (const uint8_t *) d + off, 4);
        return 0;
}

static inline int seccomp_sim_alu(uint16_t op, uint32_t *a, uint32_t v) {
        switch (op) {
        case BPF_ADD: *a += v; return 0;
        case BPF_SUB: *a -= v; return 0;
        case BPF_MUL: *a *= v; return 0;
        case BPF_DIV: if (v == 0) return -1; *a /= v; return 0;
        case BPF_MOD: if (v == 0) return -1; *a %= v; return 0;
        case BPF_OR: *a |= v; return 0;
        case BPF_AND: *a &= v; return 0;
        case BPF_XOR: *a ^= v; return 0;
        case BPF_LSH: *a = v < 32 ? *a << v : 0; return 0;
        case BPF_RSH: *a = v < 32 ? *a >> v : 0; return 0;
        case BPF_NEG: *a = -*a; return 0;
        default: return -1;
        }
}

static inline int seccomp_sim_jump(uint16_t op, uint32_t a, uint32_t v, const struct sock_filter *f,
                                   uint32_t *pc) {
        int taken;

        switch (op) {
        case BPF_JA: *pc += f->k; return 0;
        case BPF_JEQ: taken = a == v; break;
        case BPF_JGT: taken = a > v; break;
        case BPF_JGE: taken = a >= v; break;
        case BPF_JSET: taken = (a & v) != 0; break;
        default: return -1;
        }
        *pc += taken ? f->jt : f->jf;
        return 0;
}

/* The SECCOMP_RET_* value the program returns for d, SECCOMP_SIM_INVALID
 * when it runs off its end or does what seccomp refuses. */
static inline uint32_t seccomp_sim_run(const struct sock_filter *prog, size_t len,
                                       const struct seccomp_data *d) {
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};

        for (uint32_t pc = 0; pc < len; pc++) {
                const struct sock_filter *f = &prog[pc];
                uint32_t v = BPF_SRC(f->code) == BPF_X ? x : f->k;
                int r = 0;

                switch (BPF_CLASS(f->code)) {
                case BPF_LD:
                case BPF_LDX: {
                        uint32_t *dst = BPF_CLASS(f->code) == BPF_LD ? &a : &x;

                        if (BPF_SIZE(f->code) != BPF_W)
                                return SECCOMP_SIM_INVALID;
                        if (BPF_MODE(f->code) == BPF_ABS && BPF_CLASS(f->code) == BPF_LD)
                                r = seccomp_sim_load(d, f->k, dst);
                        else if (BPF_MODE(f->code) == BPF_IMM)
                                *dst = f->k;
                        else if (BPF_MODE(f->code) == BPF_MEM && f->k < BPF_MEMWORDS)
                                *dst = mem[f->k];
                        else if (BPF_MODE(f->code) == BPF_LEN)
                                *dst = sizeof *d;
                        else
                                r = -1;
                        break;
                }
                case BPF_ST:
                case BPF_STX:
                        if (f->k >= BPF_MEMWORDS)
                                return SECCOMP_SIM_INVALID;
                        mem[f->k] = BPF_CLASS(f->code) == BPF_ST ? a : x;
                        break;
                case BPF_ALU:
                        r = seccomp_sim_alu(BPF_OP(f->code), &a, v);
                        break;
                case BPF_JMP:
                        r = seccomp_sim_jump(BPF_OP(f->code), a, v, f, &pc);
                        break;
                case BPF_RET:
                        return BPF_RVAL(f->code) == BPF_A ? a : BPF_RVAL(f->code) == BPF_K ? f->k
                                                                                             : SECCOMP_SIM_INVALID;
                case BPF_MISC:
                        if (BPF_MISCOP(f->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                }
                if (r < 0)
                        return SECCOMP_SIM_INVALID;
        }
        return SECCOMP_SIM_INVALID;
}
