/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "util.h"

/* Crash-safe writes: write a temporary file next to the target, fsync it,
 * rename it over the target, fsync the directory. A reader sees the old
 * content or the new one, never a mix. */
int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode);
int write_string_file_atomic_at(int dirfd, const char *path, const char *s);
/* Atomic, and durable only if asked: without, for files that are made again
 * when lost, or whose loss a power cut makes moot. */
int write_file_replace_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode,
                          bool durable);
int write_string_file_replace_at(int dirfd, const char *path, const char *s);

int read_full_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_size);
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);

int fsync_directory_of_at(int dirfd, const char *path);
/* opendir() of path below dirfd; flags are added to O_RDONLY|O_DIRECTORY|O_CLOEXEC. */
int opendir_at(int dirfd, const char *path, int flags, DIR **ret);
int fsync_path_at(int dirfd, const char *path);
int mkdir_p(const char *path, mode_t mode);
int mkdir_p_at(int dirfd, const char *path, mode_t mode);
/* Removes the tree at path (a file, a symlink, or a directory with all in
 * it), never following a symlink nor entering a mount point (-EBUSY), with
 * no recursion: any depth, one fd and heap memory linear in the depth. Goes
 * on after a failure and returns the first; 0 if path does not exist. */
int rm_rf_at(int dirfd, const char *path);
/* The same in a thread of its own, for a tree nobody looks up again (one
 * renamed away first): returns once it is queued (or, without a thread,
 * removed). Failures are logged at debug level only. */
int rm_rf_background(int dirfd, const char *path);
/* Sums the sizes of the regular files in the tree at path, the same way. */
int tree_size_at(int dirfd, const char *path, uint64_t *ret);
int tempname_at(const char *path, char **ret);
/* For kernel interface files (cgroup, proc): opens without O_CREAT, writes once. */
int write_string_file_at(int dirfd, const char *path, const char *s);

/* read()/write() for fds that may be pipes or sockets, even O_NONBLOCK ones:
 * waits with poll() in short steps so that *cancel (if not NULL) is noticed
 * (-ECANCELED). read_cancellable() returns what one read() gave (0 at EOF);
 * write_all_cancellable() writes everything. */
ssize_t read_cancellable(int fd, void *buf, size_t n, const volatile int *cancel);
int write_all_cancellable(int fd, const void *buf, size_t n, const volatile int *cancel);
