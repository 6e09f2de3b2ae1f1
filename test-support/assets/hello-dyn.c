/* A dynamically linked (glibc) function for the test images: prints "dynamic: " followed by
 * its standard input. Used to exercise loaders that must run an image's own ld.so and libc. */
#include <stdio.h>

int main(void) {
    char buffer[4096];
    size_t n;
    fputs("dynamic: ", stdout);
    while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0) {
        fwrite(buffer, 1, n, stdout);
    }
    return ferror(stdin) ? 1 : 0;
}
