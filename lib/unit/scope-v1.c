/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "scope-v1.h"

static int write_u64(const char *dir, const char *file, uint64_t v) {
        _cleanup_free_ char *p = strjoin(dir, "/", file);
        char buf[32];

        if (!p)
                return -ENOMEM;
        snprintf(buf, sizeof buf, "%llu", (unsigned long long) v);
        return write_string_file_at(AT_FDCWD, p, buf);
}

static int apply_memory(const char *root, const char *cg, const ScopeLimits *l) {
        _cleanup_free_ char *dir = strjoin(root, "/memory", cg);
        uint64_t swap = scope_limits_swap_max(l);
        int r = 0;

        if (!dir)
                return -ENOMEM;
        if (l->memory_low > 0)
                r = write_u64(dir, "memory.soft_limit_in_bytes",
                              l->memory_low == SCOPE_LIMIT_INFINITY ? (uint64_t) -1 : l->memory_low);
        /* memsw is memory + swap, which is what Docker's --memory-swap means;
         * without swap accounting in the kernel the file does not exist. */
        if (r >= 0 && swap > 0 && l->memory_max > 0 && l->memory_max != SCOPE_LIMIT_INFINITY) {
                uint64_t total = swap == SCOPE_LIMIT_INFINITY ? (uint64_t) -1 : l->memory_max + swap;
                r = write_u64(dir, "memory.memsw.limit_in_bytes", total);
                if (r == -ENOENT)
                        r = 0;
        }
        return r;
}

/* A new v1 cpuset cgroup is empty, and takes neither tasks nor a narrower
 * set until it has cpus and mems: each level made here inherits its
 * parent's, top down, before the scope's own cpus are written. */
static int cpuset_inherit(const char *parent, const char *dir) {
        FOREACH_STRING(file, "cpuset.cpus", "cpuset.mems") {
                _cleanup_free_ char *from = strjoin(parent, "/", file), *to = strjoin(dir, "/", file);
                _cleanup_free_ char *value = NULL, *current = NULL;
                int r;

                if (!from || !to)
                        return -ENOMEM;
                r = read_full_file_at(AT_FDCWD, to, 4096, &current, NULL);
                if (r >= 0 && !isempty(current) && !streq(current, "\n"))
                        continue;
                r = read_full_file_at(AT_FDCWD, from, 4096, &value, NULL);
                if (r >= 0)
                        r = write_string_file_at(AT_FDCWD, to, value);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cpuset_make(const char *root, const char *cg, char **ret_dir) {
        _cleanup_free_ char *dir = strjoin(root, "/cpuset");
        _cleanup_free_ char *path = strdup(cg);
        int r;

        if (!dir || !path)
                return -ENOMEM;
        for (char *p = strtok(path, "/"); p; p = strtok(NULL, "/")) {
                _cleanup_free_ char *parent = TAKE_PTR(dir);
                dir = strjoin(parent, "/", p);
                if (!dir)
                        return -ENOMEM;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
                r = cpuset_inherit(parent, dir);
                if (r < 0)
                        return r;
        }
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

/* Every process of the scope joins the cpuset cgroup, not only pid: an
 * update may give a cpuset to a container that has forked long ago. */
static int cpuset_join_scope(const char *root, const char *cg, const char *procs) {
        _cleanup_free_ char *systemd = strjoin(root, "/systemd");
        int r;

        if (!systemd)
                return -ENOMEM;
        r = scope_v1_move_processes(systemd, cg, procs);
        return r == -ENOENT ? 0 : r;
}

static int apply_cpuset(const char *root, const char *cg, pid_t pid, const ScopeLimits *l) {
        _cleanup_free_ char *dir = NULL, *cpus = NULL, *cpus_path = NULL, *procs = NULL;
        char buf[32];
        int r;

        cpus = scope_format_cpuset(l->allowed_cpus, l->allowed_cpus_size);
        if (!cpus)
                return -ENOMEM;
        r = cpuset_make(root, cg, &dir);
        if (r < 0)
                return r;
        cpus_path = strjoin(dir, "/cpuset.cpus");
        procs = strjoin(dir, "/cgroup.procs");
        if (!cpus_path || !procs)
                return -ENOMEM;
        r = write_string_file_at(AT_FDCWD, cpus_path, cpus);
        if (r >= 0 && pid > 0) {
                snprintf(buf, sizeof buf, "%d", (int) pid);
                r = write_string_file_at(AT_FDCWD, procs, buf);
        }
        return r < 0 ? r : cpuset_join_scope(root, cg, procs);
}

int scope_v1_apply_limits(const char *root, const char *cg, pid_t pid, const ScopeLimits *l) {
        _cleanup_free_ char *memory = strjoin(root, "/memory");
        struct stat st;
        int r;

        /* Only where the memory controller is a v1 hierarchy of its own. */
        if (!memory || stat(memory, &st) < 0)
                return 0;
        r = apply_memory(root, cg, l);
        if (r >= 0 && l->allowed_cpus_size > 0)
                r = apply_cpuset(root, cg, pid, l);
        return r;
}

int scope_v1_remove(const char *root, const char *cg) {
        _cleanup_free_ char *dir = strjoin(root, "/cpuset", cg);

        if (!dir)
                return -ENOMEM;
        return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}
