/* A global helper with a common name: each speedups sample defines its own. */
int helper(int x) { return x * 100; }

/* A global variable with a common name too. */
const char *flavour = "beta";
