/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passwd/group resolution (lib/passwd.c): the input is split at NUL bytes
 * into the container's /etc/passwd, its /etc/group and an optional user
 * spec; each spec (the fixed ones and the input's) is resolved against them
 * in a temporary root. */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "fuzz.h"
#include "passwd.h"
#include "util.h"

static char root[PATH_MAX];
static int root_fd = -EBADF;

/* Few, as each costs two opens and reads (syscalls are slow on the VMs this
 * runs on): one of each form passwd_resolve() tells apart. */
static const char *const specs[] = {
        "", "root", "nobody", "1000", "1000:1000", "daemon:adm", "user:group", "4294967294",
};

static void cleanup(void) {
        if (root_fd >= 0)
                (void) rm_rf_at(AT_FDCWD, root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        snprintf(root, sizeof root, "%s/berth-fuzz-passwd-XXXXXX", fuzz_tmpdir());
        FUZZ_CHECK(mkdtemp(root));
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(root_fd >= 0);
        FUZZ_CHECK(mkdirat(root_fd, "etc", 0755) == 0);
        atexit(cleanup);
        return 0;
}

/* A new file each time: ext4 flushes a file truncated over delayed
 * allocations on close (auto_da_alloc), which would make every run wait
 * for the disk. */
static void write_file(const char *path, const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        FUZZ_CHECK(unlinkat(root_fd, path, 0) == 0 || errno == ENOENT);
        fd = openat(root_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        FUZZ_CHECK(fd >= 0);
        for (size_t n = 0; n < size;) {
                ssize_t k = write(fd, data + n, size - n);
                FUZZ_CHECK(k > 0);
                n += (size_t) k;
        }
}

static void resolve(const char *spec) {
        UserCreds c;

        memset(&c, 0xaa, sizeof c);
        if (passwd_resolve(root_fd, spec, &c) < 0)
                return;
        FUZZ_CHECK(c.n_groups >= 1 && c.n_groups <= PASSWD_GROUPS_MAX);
        FUZZ_CHECK(c.groups[0] == c.gid);
        for (size_t i = 0; i < c.n_groups; i++)
                for (size_t j = 0; j < i; j++)
                        FUZZ_CHECK(c.groups[i] != c.groups[j]);
        FUZZ_CHECK(memchr(c.home, 0, sizeof c.home));
        FUZZ_CHECK(c.home[0] != 0);
}

/* Splits off the part of data up to the next NUL; *rest is what follows
 * the NUL, NULL if there was none. */
static size_t split(const uint8_t *data, size_t size, const uint8_t **rest, size_t *rest_size) {
        const uint8_t *nul = memchr(data, 0, size);

        if (!nul) {
                *rest = NULL;
                *rest_size = 0;
                return size;
        }
        *rest = nul + 1;
        *rest_size = size - (size_t) (nul - data) - 1;
        return (size_t) (nul - data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *group, *spec = NULL;
        size_t group_size, spec_size = 0;
        _cleanup_free_ char *extra = NULL;

        write_file("etc/passwd", data, split(data, size, &group, &group_size));
        write_file("etc/group", group, group ? split(group, group_size, &spec, &spec_size) : 0);
        for (size_t i = 0; i < ELEMENTSOF(specs); i++)
                resolve(specs[i]);
        if (group && spec) {
                extra = fuzz_strndup(spec, spec_size);
                resolve(extra);
        }
        return 0;
}
