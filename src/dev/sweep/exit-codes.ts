// The sweep command's exit codes, the same for every chain: a script tells "all went" from "something failed"
// from "nothing was sent" without reading the output.

export const EXIT_OK = 0;
/** Some transaction failed or was skipped because of a failure, or the run broke off (the node stopped answering). */
export const EXIT_FAILED = 1;
/** Nothing was sent: bad usage, a bad secret, a chain mismatch, a plan with problems, or no confirmation. */
export const EXIT_REFUSED = 2;
