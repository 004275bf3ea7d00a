/* exit_is.c — `exit_is CODE CMD [ARGS...]`: runs CMD and succeeds when it exits with CODE.
 * Under valgrind --trace-children=yes (meson test --setup valgrind) CMD runs under memcheck
 * too, whose --error-exitcode then makes any memory error a wrong exit code: a failing run's
 * error path is checked for leaks and bad accesses as a passing one is. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: exit_is CODE CMD [ARGS...]\n");
        return 2;
    }
    const int want = atoi(argv[1]);
    const pid_t pid = fork();
    if (pid < 0) {
        perror("exit_is: fork");
        return 2;
    }
    if (pid == 0) {
        execv(argv[2], argv + 2);
        perror("exit_is: exec");
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) {
        perror("exit_is: waitpid");
        return 2;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == want) return 0;
    fprintf(stderr, "exit_is: %s %s, expected exit %d\n", argv[2],
            WIFEXITED(st) ? "exited" : "was killed", want);
    if (WIFEXITED(st)) fprintf(stderr, "exit_is: exit status %d\n", WEXITSTATUS(st));
    return 1;
}
