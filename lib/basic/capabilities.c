/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "capabilities.h"
#include "util.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

static void cap_freep(void *p) {
        cap_free(*(void **) p);
}

/* libcap knows the names of the capabilities of the kernel it was built for;
 * the running kernel may know more or fewer, cap_max_bits() tells. */
static int capability_last(void) {
        return MIN((int) cap_max_bits(), 64) - 1;
}

int capability_from_name(const char *name) {
        char buf[64];
        const char *s;
        cap_value_t v;
        size_t n;

        if (isempty(name))
                return -EINVAL;
        s = strncasecmp(name, "cap_", 4) == 0 ? name + 4 : name;
        n = strlen(s);
        if (n == 0 || n + 4 >= sizeof buf)
                return -EINVAL;
        memcpy(buf, "cap_", 4);
        for (size_t i = 0; i <= n; i++)
                buf[4 + i] = (char) tolower((unsigned char) s[i]);
        /* cap_from_name() also accepts numbers; names only here. */
        if (isdigit((unsigned char) buf[4]))
                return -EINVAL;
        if (cap_from_name(buf, &v) < 0 || v < 0 || v > capability_last())
                return -EINVAL;
        return (int) v;
}

const char *capability_to_name(int cap) {
        static char names[64][32];
        _cleanup_(cap_freep) char *n = NULL;

        if (cap < 0 || cap > capability_last())
                return NULL;
        if (names[cap][0])
                return names[cap];
        n = cap_to_name(cap);
        if (!n || strlen(n) >= sizeof names[cap])
                return NULL;
        for (size_t i = 0; n[i]; i++)
                names[cap][i] = (char) toupper((unsigned char) n[i]);
        return names[cap];
}

uint64_t capability_all(void) {
        int last = capability_last();

        return last >= 63 ? UINT64_MAX : CAP_BIT(last + 1) - 1;
}

uint64_t capability_docker_default(void) {
        static const int caps[] = {
                CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD,
                CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
                CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
        };
        uint64_t m = 0;

        for (size_t i = 0; i < ELEMENTSOF(caps); i++)
                m |= CAP_BIT(caps[i]);
        return m;
}

static int capability_mask_of(char * const *names, bool *ret_all, uint64_t *ret) {
        uint64_t m = 0;
        bool all = false;

        STRV_FOREACH(n, names) {
                int c;

                if (strcasecmp(*n, "ALL") == 0) {
                        all = true;
                        continue;
                }
                c = capability_from_name(*n);
                if (c < 0)
                        return c;
                m |= CAP_BIT(c);
        }
        *ret_all = all;
        *ret = m;
        return 0;
}

int capability_compute(char * const *add, char * const *drop, bool privileged, uint64_t *ret) {
        uint64_t add_mask, drop_mask, set;
        bool add_all, drop_all;
        int r;

        r = capability_mask_of(add, &add_all, &add_mask);
        if (r < 0)
                return r;
        r = capability_mask_of(drop, &drop_all, &drop_mask);
        if (r < 0)
                return r;
        if (privileged) {
                *ret = capability_all();
                return 0;
        }

        if (drop_all)
                /* Docker: --cap-drop ALL keeps exactly the --cap-add list. */
                set = add_all ? capability_all() : add_mask;
        else
                set = ((add_all ? capability_all() : capability_docker_default()) | add_mask) & ~drop_mask;
        *ret = set & capability_all();
        return 0;
}

int capability_apply_bounding(uint64_t set) {
        for (int c = 0; c <= capability_last(); c++) {
                if (set & CAP_BIT(c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0 && errno != EINVAL)
                        return negative_errno();
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return negative_errno();
        return 0;
}

static int cap_set_mask(cap_t caps, cap_flag_t flag, uint64_t mask) {
        for (int c = 0; c <= capability_last(); c++) {
                cap_value_t v = c;

                if (!(mask & CAP_BIT(c)))
                        continue;
                if (cap_set_flag(caps, flag, 1, &v, CAP_SET) < 0)
                        return negative_errno();
        }
        return 0;
}

int capability_prepare(uint64_t set, uint64_t extra_effective, cap_t *ret) {
        _cleanup_(cap_freep) cap_t caps = cap_init();
        int r;

        if (!caps)
                return -ENOMEM;
        r = cap_set_mask(caps, CAP_EFFECTIVE, set | extra_effective);
        if (r >= 0)
                r = cap_set_mask(caps, CAP_PERMITTED, set | extra_effective);
        /* The inheritable set stays empty, as in Docker since CVE-2022-24769:
         * with it, executing a file that has inheritable file capabilities
         * would hand them to a non-root user. */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(caps);
        return 0;
}

int capability_apply(cap_t prepared) {
        if (cap_set_proc(prepared) < 0)
                return negative_errno();
        return 0;
}

int capability_get_permitted(uint64_t *ret) {
        _cleanup_(cap_freep) cap_t caps = cap_get_proc();
        uint64_t m = 0;

        if (!caps)
                return negative_errno();
        for (int c = 0; c <= capability_last(); c++) {
                cap_flag_value_t v;

                if (cap_get_flag(caps, c, CAP_PERMITTED, &v) < 0)
                        return negative_errno();
                if (v == CAP_SET)
                        m |= CAP_BIT(c);
        }
        *ret = m;
        return 0;
}
