/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-layer LAYER TARGET-DIR: unpacks LAYER (tar, tar.gz or tar.zst) into
 * the empty TARGET-DIR and prints the digests, sizes and the time taken. */
#include <fcntl.h>
#include <inttypes.h>

#include "layer.h"

int main(int argc, char *argv[]) {
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        LayerUnpackResult res;
        uint64_t t0;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: %s LAYER TARGET-DIR\n", argv[0]);
                return EXIT_FAILURE;
        }
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        dfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || dfd < 0) {
                perror("open");
                return EXIT_FAILURE;
        }
        t0 = now_usec(CLOCK_MONOTONIC);
        r = layer_unpack(fd, dfd, NULL, 0, NULL, NULL, &res);
        if (r < 0) {
                fprintf(stderr, "unpack failed: %s: %s\n", strerror(-r), strempty(layer_last_error()));
                return EXIT_FAILURE;
        }
        printf("compressed   %s %" PRIu64 "\n", res.compressed_digest, res.compressed_size);
        printf("diff_id      %s %" PRIu64 "\n", res.diff_id, res.uncompressed_size);
        printf("entries      %" PRIu64 "\n", res.entries);
        printf("time         %.3f s\n", (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1e6);
        return EXIT_SUCCESS;
}
