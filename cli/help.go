package cli

// Version is set at build time (see the Makefile).
var Version = "dev"

// License is the text printed by tini's -l; main fills it in.
var License = ""

const drainitHelp = `drainit: a PID 1 for containers that drains, forwards, reaps and waits.

Usage: drainit [OPTIONS] [--] COMMAND [ARG...]
       drainit check [OPTIONS]   validate the drain and print its plan
       drainit check -f FILE     the same for each container that runs drainit
                                 in a manifest, against the pod's own numbers

Runs COMMAND as its child in a new session, forwards every signal it gets to
the child's whole process group, reaps zombies, and exits with the child's
status (128+N when the child died of signal N) once the child and every
process below it are gone. Processes that outlive the stop timeout after a
stop signal, or after the child exits, are killed with SIGKILL.

When not PID 1, drainit registers as a child subreaper (PR_SET_CHILD_SUBREAPER)
so orphaned descendants are still reparented to it and reaped.

Options (each also read from the environment variable shown; the flag wins):
  -c, --single-child        forward to the child only, not its group
                            (DRAINIT_SINGLE_CHILD=true; default false)
  -r, --rewrite S:R         forward signal S as R; R=0 drops S; repeatable
                            (DRAINIT_REWRITE=TERM:QUIT,USR1:0)
  -e, --expect-status CODE  exit 0 when the child exits with CODE; repeatable
                            (DRAINIT_EXPECT_STATUS=143,130)
  -t, --stop-timeout D      how long the tree may take to exit once told to
                            stop, before SIGKILL (DRAINIT_STOP_TIMEOUT; unset:
                            until the grace period ends; 10s for the rest of
                            the tree once the child exits, and the app's
                            share of the grace period the steps may not eat)
  -p, --pdeath-signal SIG   signal drainit receives when its parent dies
                            (DRAINIT_PDEATH_SIGNAL)
  -v, --verbose             more logs; repeat for debug (DRAINIT_VERBOSITY=1:
                            0 errors, 1 warnings, 2 info, 3 debug)
  -w, --warn-reap           warn for every zombie reaped (DRAINIT_WARN_REAP=true)
      --log-format F        text or json (DRAINIT_LOG_FORMAT=text)
      --prestop STEPS       drain steps run on the first drain signal, before
                            it is forwarded, separated by ; or newlines:
                              sleep 30s
                              http [METHOD] URL [-H 'Name: value'] [BODY]
                              exec CMD [ARG...]
                              nacos | eureka | consul  (DRAINIT_NACOS_* ...)
                              quiet [Q] [max M]  (until callers stop)
                            (DRAINIT_PRESTOP)
      --drain-signals LIST  signals that start the drain (DRAINIT_DRAIN_SIGNALS=TERM)
      --grace-period D      the pod's grace period, from the drain signal;
                            drainit SIGKILLs 1s before it ends
                            (DRAINIT_GRACE_PERIOD=30s)
      --step-timeout D      longest one http, exec or registry step may take
                            (DRAINIT_STEP_TIMEOUT=5s)
                            In a pod, drainit reads the kubelet's real deadline
                            from it when the stop begins, and posts the drain as
                            Events on it (DRAINIT_KUBERNETES=true; false: never)
  -h, --help                show this help
  -V, --version             show the version

Durations are like 30s or 1m30s, or a whole number of seconds (60).

The drain steps' settings (variables only):
  nacos    DRAINIT_NACOS_ADDR, DRAINIT_NACOS_SERVICE, DRAINIT_NACOS_PORT (required);
           DRAINIT_NACOS_IP ($POD_IP, else the first non-loopback IPv4),
           DRAINIT_NACOS_NAMESPACE (public), DRAINIT_NACOS_GROUP=DEFAULT_GROUP,
           DRAINIT_NACOS_CLUSTER=DEFAULT, DRAINIT_NACOS_USERNAME,
           DRAINIT_NACOS_PASSWORD or DRAINIT_NACOS_PASSWORD_FILE,
           DRAINIT_NACOS_EPHEMERAL=true, DRAINIT_NACOS_REENABLE=true
  eureka   DRAINIT_EUREKA_URL, DRAINIT_EUREKA_APP, DRAINIT_EUREKA_INSTANCE_ID
           (required); DRAINIT_EUREKA_CLEAR=true
  consul   DRAINIT_CONSUL_SERVICE_ID (required); DRAINIT_CONSUL_ADDR
           ($CONSUL_HTTP_ADDR, else 127.0.0.1:8500), DRAINIT_CONSUL_TOKEN
           ($CONSUL_HTTP_TOKEN)
  quiet    HOST_IP (the node's address: its probes are not callers),
           DRAINIT_QUIET_IGNORE (addresses, CIDRs, local ports, gateway),
           DRAINIT_QUIET_SOURCE=netlink (or proc), DRAINIT_QUIET_OPENS=true,
           DRAINIT_QUIET_END_IDLE=true (end idle kept-alive connections)

Signals never forwarded: SIGCHLD and 33 (the Go runtime's); SIGPIPE, SIGURG,
SIGPROF and fault signals only when another process sent them.
Installed as a symlink named tini or dumb-init, drainit takes that tool's
flags, variables and exit codes.

Exit codes: the child's; 126 cannot execute COMMAND; 127 COMMAND not found;
2 bad flag, variable or value (no child is started).
`

const tiniHelp = `tini (drainit compatible): run a program under a PID 1 that forwards and reaps.

Usage: tini [OPTIONS] PROGRAM -- [ARGS] | --version

Options:
  --version   show the version
  -h          show this help
  -s          register as a child subreaper (drainit always does)
  -p SIGNAL   signal tini receives when its parent dies, e.g. -p SIGKILL
  -v          more output; repeat up to 3 times
  -w          warn for every zombie reaped
  -g          send signals to the child's whole process group
  -e CODE     exit 0 when the child exits with CODE (0-255); repeatable
  -l          show the license

Environment:
  TINI_SUBREAPER            accepted; drainit always registers as subreaper
  TINI_VERBOSITY            verbosity level (default 1)
  TINI_KILL_PROCESS_GROUP   when set, same as -g

Unlike tini, drainit does not exit while processes of the child's tree are
alive; it waits for them up to DRAINIT_STOP_TIMEOUT (10s), then kills them.
Exit codes: the child's (128+N for signal N); 126/127 when PROGRAM cannot be
executed or is missing; 1 for bad usage.
`

const dumbInitHelp = `dumb-init (drainit compatible): a PID 1 that proxies signals to its child.

Usage: dumb-init [option] command [[arg] ...]

Options:
  -c, --single-child   signal only the direct child, not its process group
  -r, --rewrite s:r    forward signal s as r (numbers or names); r=0 drops s;
                       repeatable
  -v, --verbose        print debugging information to stderr
  -h, --help           show this help
  -V, --version        show the version

Environment:
  DUMB_INIT_SETSID=0   same as --single-child
  DUMB_INIT_DEBUG=1    same as --verbose

Unlike dumb-init, drainit does not exit while processes of the child's tree
are alive; it waits for them up to DRAINIT_STOP_TIMEOUT (10s), then kills
them. Exit codes: the child's (128+N for signal N); 2 when the command cannot
be executed; 1 for bad usage.
`
