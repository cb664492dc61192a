/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the parent side (runtime.c) and the child side
 * (runtime-child.c) of the runtime; not for other modules. */

#include <linux/sched.h>
#include <sys/capability.h>

#include "runtime.h"

typedef enum ChannelMsgType {
        CHANNEL_MSG_ERROR,
        CHANNEL_MSG_PTY,    /* carries the pty master */
        CHANNEL_MSG_PID,    /* runtime_exec's helper: carries the new process's pidfd */
        CHANNEL_MSG_STARTED, /* runtime_spawn's child is alive: its pidfd is ready */
} ChannelMsgType;

typedef struct ChannelMsg {
        ChannelMsgType type;
        SetupStage stage;
        int error;
        pid_t pid;
        char path[PATH_MAX];
} ChannelMsg;

/* Everything the child needs, computed before clone: after clone the child
 * must not allocate, since another thread of the daemon may have held the
 * allocator's lock at that moment (clone3 runs no atfork handlers).
 *
 * runtime_spawn's child shares the daemon's memory (CLONE_VM, see
 * runtime-spawn.c), so it reads the plan in place: the plan then owns a copy of
 * the spec, and is freed by the last of the daemon and the spawning thread
 * to let go of it. */
/* Who reaps a spawned child that the daemon gave up on before it said
 * STARTED: the spawning thread if it learns of it before it is done, else
 * the daemon, which then takes the pidfd from the plan. */
typedef enum SpawnState {
        SPAWN_STATE_RUNNING,     /* the spawning thread waits for the child (CLONE_VFORK) */
        SPAWN_STATE_THREAD_DONE, /* the child exec'd or died: plan->pidfd is final */
        SPAWN_STATE_ABANDONED,   /* the daemon let go: the thread kills and reaps the child */
} SpawnState;

typedef struct ChildPlan {
        unsigned n_ref;
        const RuntimeSpec *spec;             /* NULL for exec */
        const RuntimeProcessSpec *process;
        RuntimeSpec own_spec;                /* spawn: what spec points to */
        bool shared_vm;                      /* spawn: the child runs in the daemon's memory */
        int spawn_state;                     /* spawn: SpawnState, atomic */
        unsigned long clone_flags;
        int pidfd;                           /* spawn: set by the kernel at clone */
        int channel;
        int parent_channel;                  /* spawn: the daemon's end, which the child's
                                              * copy of the fd table holds too */
        int target_pidfd;                    /* exec: the container's leader */
        char *overlay_options;               /* NULL: add layers one by one */
        char **envp;                         /* one spare slot at the end for HOME */
        size_t n_env;
        bool need_home;
        char home_env[PATH_MAX + 8];
        const char *path;                    /* PATH to look the command up in */
        uint64_t caps;
        uint64_t caps_extra;                 /* effective during setup only (CAP_SYS_ADMIN for seccomp) */
        cap_t caps_setup, caps_final;        /* caps_setup may hold CAP_SYS_ADMIN for seccomp */
        bool seccomp;
        SeccompBpf bpf;
} ChildPlan;

int runtime_exit_code(SetupStage stage, int error);
/* The plan's parts that spawn and exec share (runtime.c). */
int plan_build(ChildPlan *plan, const RuntimeProcessSpec *p, const char *hostname);
void child_plan_done(ChildPlan *plan);
void close_pair(int (*pair)[2]);
pid_t raw_clone3(struct clone_args *args);

void runtime_error_fill(RuntimeError *e, const ChannelMsg *m);

int channel_send(int fd, const ChannelMsg *m, int passfd);
/* Returns 0 on EOF, 1 with a message (and *ret_fd if one was passed). */
int channel_recv(int fd, ChannelMsg *m, int *ret_fd);

/* The pid a pidfd refers to, in our pid namespace; -ESRCH if it is no pidfd. */
int pidfd_get_pid(int pidfd, pid_t *ret);

/* A child's stack in the daemon's memory (runtime-spawn.c); one is kept. */
#define CHILD_STACK_SIZE (256 * 1024)
void *child_stack_get(void);
void child_stack_put(void *s);
void *child_stack_top(void *s);

/* The exec plan in a sealed memfd (runtime-plan.c): written by the daemon,
 * read by berth-exec into plan and p, which then point into memory that is
 * never freed. */
int exec_plan_write(const ChildPlan *plan, int *ret_fd);
int exec_plan_read(int fd, ChildPlan *plan, RuntimeProcessSpec *p);

/* The fds berth-exec is started with. */
#define EXEC_HELPER_FD_CHANNEL 3
#define EXEC_HELPER_FD_LEADER 4
#define EXEC_HELPER_FD_PLAN 5
#define EXEC_HELPER_N_FDS 6

/* The spawn's plan (runtime.c, below runtime-spawn.c): what the plan owns
 * of the spec, and the last reference of the daemon and the spawning
 * thread frees it. */
void spec_copy_done(RuntimeSpec *s);
ChildPlan *child_plan_unref(ChildPlan *plan);
DEFINE_TRIVIAL_CLEANUP_FUNC(ChildPlan *, child_plan_unref);
/* The daemon's reference, once the child said STARTED and its pidfd is taken. */
void runtime_spawn_plan_drop(RuntimeProcess *p);
/* A spawn the daemon gives up on before that (runtime_process_kill/_done). */
void runtime_spawn_abandon(RuntimeProcess *p);

_noreturn_ void child_spawn_main(ChildPlan *plan);
/* berth-exec's main, with the plan read and the fds above in place. */
_noreturn_ void child_exec_main(ChildPlan *plan);
