# plumb --dry-run run -d --name web --network golden nginx
set -e
ip netns add web
mkdir -p $ROOT/netns-names
touch $ROOT/netns-names/web
mount --bind /run/netns/web $ROOT/netns-names/web
mkdir -p $ROOT/run/uts
touch $ROOT/run/uts/1b1b1b1b1b1b
unshare --uts=$ROOT/run/uts/1b1b1b1b1b1b hostname 1b1b1b1b1b1b
ip -n web link set lo up
nsenter --net=/run/netns/web sysctl -w net.ipv6.conf.all.disable_ipv6=1
ip link add veth2c2c2c2 master br-golden up type veth peer name eth0 address 02:42:0a:fa:00:02 netns web
bridge link set dev veth2c2c2c2 hairpin on
ip -n web link set eth0 up
ip -n web addr add 10.250.0.2/24 brd 10.250.0.255 dev eth0
ip -n web route add default via 10.250.0.1 dev eth0
nsenter --net=/run/netns/web sysctl -w net.ipv4.conf.all.route_localnet=1
nsenter --net=/run/netns/web iptables-restore --noflush --wait <<'RULES'
*nat
:PLUMB_DNS_OUTPUT - [0:0]
:PLUMB_DNS_POSTROUTING - [0:0]
-A OUTPUT -d 127.0.0.11/32 -j PLUMB_DNS_OUTPUT
-A POSTROUTING -s 127.0.0.0/8 -j PLUMB_DNS_POSTROUTING
-A PLUMB_DNS_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.250.0.1:5311
-A PLUMB_DNS_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 10.250.0.1:5311
-A PLUMB_DNS_POSTROUTING -s 127.0.0.0/8 -d 10.250.0.1/32 -p udp -m udp --dport 5311 -j SNAT --to-source 10.250.0.2
-A PLUMB_DNS_POSTROUTING -s 127.0.0.0/8 -d 10.250.0.1/32 -p tcp -m tcp --dport 5311 -j SNAT --to-source 10.250.0.2
COMMIT
RULES
mkdir -p $ROOT/run/containers/1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b
cat > $ROOT/run/containers/1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b/hosts <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
10.250.0.2	1b1b1b1b1b1b
EOF
cat > $ROOT/run/containers/1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b/resolv.conf <<'EOF'
nameserver 127.0.0.11
options ndots:0
EOF
cat > $ROOT/run/containers/1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b/hostname <<'EOF'
1b1b1b1b1b1b
EOF
