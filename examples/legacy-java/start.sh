#!/bin/bash
# The legacy start script found in many images: it runs java without exec and
# without a trap, so bash never passes SIGTERM on to the JVM. drainit signals
# the whole process group, so the JVM gets it anyway.
APP_HOME=$(cd "$(dirname "$0")" && pwd)
echo "start.sh: starting the app"
if [ -f "$APP_HOME/App.class" ]; then
  java $JAVA_OPTS -cp "$APP_HOME" App
else
  java $JAVA_OPTS "$APP_HOME/App.java"
fi
echo "start.sh: java exited with $?"
