/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>

#include "digest.h"

struct Sha256 {
        EVP_MD_CTX *ctx;
};

int sha256_new(Sha256 **ret) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
                return -EIO;
        *ret = TAKE_PTR(h);
        return 0;
}

Sha256 *sha256_free(Sha256 *h) {
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        return mfree(h);
}

int sha256_update(Sha256 *h, const void *p, size_t n) {
        if (n == 0)
                return 0;
        return EVP_DigestUpdate(h->ctx, p, n) == 1 ? 0 : -EIO;
}

int sha256_final(Sha256 *h, char buf[static DIGEST_STRING_MAX]) {
        static const char digits[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        char *p;

        if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != DIGEST_HEX_LEN / 2)
                return -EIO;
        p = stpcpy(buf, "sha256:");
        for (unsigned i = 0; i < n; i++) {
                *p++ = digits[md[i] >> 4];
                *p++ = digits[md[i] & 15];
        }
        *p = 0;
        return 0;
}

int sha256_digest_buffer(const void *p, size_t n, char buf[static DIGEST_STRING_MAX]) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        int r;

        r = sha256_new(&h);
        if (r < 0)
                return r;
        r = sha256_update(h, p, n);
        if (r < 0)
                return r;
        return sha256_final(h, buf);
}

/* Hashes from the current offset to the end of the file. */
int sha256_digest_fd(int fd, char buf[static DIGEST_STRING_MAX]) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        _cleanup_free_ uint8_t *data = NULL;
        const size_t size = 256 * 1024;
        int r;

        r = sha256_new(&h);
        if (r < 0)
                return r;
        data = malloc(size);
        if (!data)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, data, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                r = sha256_update(h, data, (size_t) k);
                if (r < 0)
                        return r;
        }
        return sha256_final(h, buf);
}

int digest_validate(const char *digest) {
        const char *hex;

        if (!digest)
                return -EINVAL;
        hex = startswith(digest, "sha256:");
        if (!hex || !string_is_hex(hex, DIGEST_HEX_LEN))
                return -EINVAL;
        return 0;
}

const char *digest_hex(const char *digest) {
        if (digest_validate(digest) < 0)
                return NULL;
        return digest + strlen("sha256:");
}
