# What the container tests run: drainit (also as tini and dumb-init), the
# test app and the fake registry on a Debian base with bash.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
COPY drainit testprog fakeregistryd /usr/local/bin/
RUN ln -s drainit /usr/local/bin/tini && ln -s drainit /usr/local/bin/dumb-init
