# Sourced by the .ci/fetch-* scripts: a private apt configuration for one
# Debian suite that leaves the machine's own apt state alone.
#   apt_private WORKDIR SUITE LINE-TYPE   (LINE-TYPE: deb or deb-src)
# sets the array APT_OPTS and runs `apt-get update` for that suite, using the
# Debian archive URI this machine's apt already uses.

debian_archive_uri() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
           /^deb / { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }' \
    | awk '/\/debian\/?$/ { print; exit }' || true
}

apt_private() {
  local work="$1" suite="$2" kind="$3" uri
  uri=$(debian_archive_uri)
  [ -n "$uri" ] || { echo "no Debian archive URI in /etc/apt" >&2; return 1; }
  mkdir -p "$work"/{lists/partial,cache/archives/partial,etc}
  printf '%s [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$kind" "$uri" "$suite" > "$work/etc/sources.list"
  : > "$work/etc/status"
  APT_OPTS=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Dir::State::status=$work/etc/status"
            -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o APT::Architecture=amd64)
  apt-get "${APT_OPTS[@]}" -q update >&2
}
