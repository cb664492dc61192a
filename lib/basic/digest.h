/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* OCI content digests. Only sha256 is accepted: "sha256:" + 64 lowercase hex. */

#define DIGEST_HEX_LEN 64
#define DIGEST_STRING_MAX (sizeof("sha256:") + DIGEST_HEX_LEN)

typedef struct Sha256 Sha256;   /* streaming hasher (OpenSSL EVP underneath) */

int sha256_new(Sha256 **ret);
Sha256 *sha256_free(Sha256 *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sha256 *, sha256_free);
int sha256_update(Sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" into buf (DIGEST_STRING_MAX bytes). */
int sha256_final(Sha256 *h, char buf[static DIGEST_STRING_MAX]);

int sha256_digest_buffer(const void *p, size_t n, char buf[static DIGEST_STRING_MAX]);
int sha256_digest_fd(int fd, char buf[static DIGEST_STRING_MAX]);

/* "sha256:<64 hex>" only; returns 0 or -EINVAL. */
int digest_validate(const char *digest);
/* The hex part of a valid digest, or NULL. */
const char *digest_hex(const char *digest);
