#!/bin/bash
# A legacy start script: java without exec, no trap.
cd "$(dirname "$0")"
echo "start.sh: starting the service on port $PORT"
java -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$CLASSES" Service
echo "start.sh: java exited with $?"
