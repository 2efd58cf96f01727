# drainit alone, for other images to take it from:
#   COPY --from=drainit:dev /drainit /usr/local/bin/drainit
# Build it from a directory holding the static binary (make docker-images
# does this with bin/drainit from make build).
FROM scratch
COPY drainit /drainit
ENTRYPOINT ["/drainit"]
