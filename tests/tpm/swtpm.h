/* A private swtpm for one test: unix sockets in its own temp dir, stopped by its PID. */
#pragma once

#include <sys/types.h>
#include "../lib/testlib.h"

struct vt_swtpm {
        pid_t pid;
        /*
         * Temp dir: the TPM state, its sockets (swtpm.sock, the TPM; swtpm.sock.ctrl, its
         * control channel) and swtpm.log. Unix sockets in a dir of our own, not TCP ports: no
         * other process can hold them, and closed connections leave no TIME-WAIT behind.
         */
        char *state;
        char *root; /* a --root tree whose virtune.conf points [tpm] tcti at this swtpm */
        char tcti[160];
        bool no_startup; /* set before start: the TPM waits for TPM2_Startup */
        /*
         * Set before start: provision the TPM as libvirt does (swtpm_setup --create-ek-cert
         * --create-platform-cert --lock-nvram) with a swtpm_localca whose CA lives in ca_dir
         * (made on first use, shared by every TPM given the same dir).
         */
        const char *ca_dir;
};

/* true when swtpm and tpm2-tools are installed (tests exit 77 otherwise). */
bool vt_swtpm_available(void);
/*
 * Starts swtpm and waits until its control channel answers; sets TPM2TOOLS_TCTI for
 * tpm2-tools. Fails the test with swtpm's log when it exits or does not answer.
 */
void vt_swtpm_start(struct vt_swtpm *t);
void vt_swtpm_stop(struct vt_swtpm *t);
/* Stops swtpm and starts it again on the same state: a power cycle (a TPM reset). */
void vt_swtpm_power_cycle(struct vt_swtpm *t);
/* The swtpm-localca trust anchors of ca_dir (issuer and root certificates). */
void vt_swtpm_ca_files(const char *ca_dir, char *issuer, char *root, size_t size);
/* Runs a tpm2-tools command line (argv) against it; returns the exit status. */
int vt_swtpm_tool(struct vt_swtpm *t, char *const argv[], char **out);

/* The test's own swtpm, and cmocka setup/teardown that start and stop it around each test. */
extern struct vt_swtpm vt_tpm;
int vt_swtpm_setup(void **state);
int vt_swtpm_teardown(void **state);
