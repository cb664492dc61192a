/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays inputs through a harness once, without libFuzzer: what the
 * fuzz-regress suite runs in every build, gcc's included.
 *
 *   fuzz-NAME-regress CORPUS [REGRESSIONS...]
 *
 * CORPUS must exist and hold at least one input; the other directories may
 * be missing (a harness without known crashes has no regressions yet). Files
 * are replayed in name order; dot files are skipped. A crash or a failed
 * FUZZ_CHECK fails the test (abort()), with the input's name printed first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int replay_file(int dirfd, const char *dir, const char *name) {
        struct stat st;
        uint8_t *buf;
        size_t n = 0;
        int fd;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s/%s: %m\n", dir, name);
                return -errno;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return 0;
        }
        /* Exactly the input's size, so that a sanitizer sees any over-read. */
        buf = malloc(st.st_size > 0 ? (size_t) st.st_size : 1);
        if (!buf)
                abort();
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t) st.st_size - n);
                if (k <= 0) {
                        fprintf(stderr, "%s/%s: short read\n", dir, name);
                        abort();
                }
                n += (size_t) k;
        }
        close(fd);
        fprintf(stderr, "replaying %s/%s\n", dir, name);
        (void) LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        return 1;
}

static int name_cmp(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot(const struct dirent *de) {
        return de->d_name[0] != '.';
}

/* Returns the number of inputs replayed, -ENOENT if dir is missing. */
static int replay_dir(const char *dir) {
        struct dirent **names;
        int dirfd, n, count = 0;

        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        n = scandirat(dirfd, ".", &names, not_dot, name_cmp);
        if (n < 0) {
                close(dirfd);
                return -errno;
        }
        for (int i = 0; i < n; i++) {
                int r = replay_file(dirfd, dir, names[i]->d_name);
                if (r < 0)
                        abort();
                count += r;
                free(names[i]);
        }
        free(names);
        close(dirfd);
        return count;
}

int main(int argc, char **argv) {
        int total = 0, r;

        if (argc < 2) {
                fprintf(stderr, "Usage: %s CORPUS [REGRESSIONS...]\n", argv[0]);
                return EXIT_FAILURE;
        }
        if (LLVMFuzzerInitialize)
                (void) LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                r = replay_dir(argv[i]);
                if (r == -ENOENT && i > 1)
                        continue;
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
                        return EXIT_FAILURE;
                }
                if (i == 1 && r == 0) {
                        fprintf(stderr, "%s: no inputs\n", argv[i]);
                        return EXIT_FAILURE;
                }
                total += r;
        }
        printf("replayed %d inputs\n", total);
        return EXIT_SUCCESS;
}
