#!/bin/bash
# A legacy start script: java without exec, no trap.
cd "$(dirname "$0")"
# In a container the service registers the container's own address.
if [ "${IP:-}" = auto ]; then IP=$(hostname -i); export IP; fi
echo "start.sh: starting the service on port $PORT"
java -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$CLASSES" Service
echo "start.sh: java exited with $?"
