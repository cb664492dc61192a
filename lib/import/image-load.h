/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "store.h"

/* Loading, importing and saving images. Input and output are file
 * descriptors; pipes are fine (archives are read and written as streams).
 * A failed or cancelled operation leaves the store unchanged. */

typedef enum ImageArchiveFormat {
        IMAGE_ARCHIVE_DOCKER,      /* docker save / podman save: manifest.json + repositories */
        IMAGE_ARCHIVE_OCI,         /* a tar of an OCI image layout */
        _IMAGE_ARCHIVE_FORMAT_MAX,
        _IMAGE_ARCHIVE_FORMAT_INVALID = -EINVAL,
} ImageArchiveFormat;

const char *image_archive_format_to_string(ImageArchiveFormat f) _pure_;
ImageArchiveFormat image_archive_format_from_string(const char *s) _pure_;

/* Loads every image of a docker-archive or oci-archive (told apart by their
 * content), tagging as the archive says. Returns the loaded image ids and the
 * references tagged. */
int image_load(Store *s, int fd, const StoreIoOptions *opts, char ***ret_ids, char ***ret_tags);
/* Same for an OCI image-layout directory. */
int image_load_oci_layout(Store *s, int dirfd, const StoreIoOptions *opts, char ***ret_ids, char ***ret_tags);

/* A root filesystem tarball (plain, gzip or zstd) as a one-layer image.
 * changes: Dockerfile-like instructions (CMD, ENTRYPOINT, ENV, WORKDIR,
 * USER, LABEL, EXPOSE, STOPSIGNAL, VOLUME), may be NULL. reference may be NULL. */
int image_import(Store *s, int fd, const char *reference, char * const *changes,
                 const StoreIoOptions *opts, char **ret_id);

/* Writes the images named (ids or references) as an archive to fd, with the
 * stored blobs so digests are preserved. */
int image_save(Store *s, char * const *names, ImageArchiveFormat format, int fd,
               const StoreIoOptions *opts);
