# The rollout bench across containers: the JVM service behind its legacy
# start.sh, drainit, the peers (tini, dumb-init from the base's packages),
# the fake registry and the callers, in one image.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
COPY drainit fakeregistryd rollout /usr/local/bin/
COPY Service.java start.sh /app/
RUN javac -d /app /app/Service.java
