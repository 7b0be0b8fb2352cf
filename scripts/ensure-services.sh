#!/usr/bin/env bash
# Start PostgreSQL, MariaDB and Redis on localhost if they are not answering (the machine's own
# start commands), and create the databases the tests use. Idempotent; quiet when all is up.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done; echo "ensure-services: port $1 did not come up" >&2; return 1; }

if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  echo "ensure-services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_port 5432
fi
if ! up 3306 && [ -x /usr/sbin/mariadbd ]; then
  echo "ensure-services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  wait_port 3306
fi
if ! up 6379 && command -v redis-server >/dev/null; then
  echo "ensure-services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_port 6379
fi
exit 0
