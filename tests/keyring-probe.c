/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints the serial of the calling process's session keyring: test-runtime
 * runs it inside containers (it is static, as their roots have no libc). */
#include <linux/keyctl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
        long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);

        if (id < 0) {
                perror("keyctl");
                return 1;
        }
        printf("%ld\n", id);
        return 0;
}
