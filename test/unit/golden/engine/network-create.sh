# plumb --dry-run network create --subnet 10.250.0.0/24 -o com.docker.network.bridge.name=br-golden golden
set -e
ip link add br-golden address 02:42:2c:2c:2c:2c type bridge
ip addr add 10.250.0.1/24 brd 10.250.0.255 dev br-golden
ip link set br-golden up
sysctl -w net.ipv4.conf.br-golden.route_localnet=1
iptables-restore --noflush --wait <<'RULES'
*filter
:PLUMB - [0:0]
:PLUMB-FORWARD - [0:0]
:PLUMB-ISOLATION-STAGE-1 - [0:0]
:PLUMB-ISOLATION-STAGE-2 - [0:0]
:PLUMB-USER - [0:0]
-A PLUMB-FORWARD -o br-golden -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "plumb: network golden" -j ACCEPT
-A PLUMB-FORWARD -o br-golden -m comment --comment "plumb: network golden" -j PLUMB
-A PLUMB-FORWARD -i br-golden ! -o br-golden -m comment --comment "plumb: network golden" -j ACCEPT
-A PLUMB-FORWARD -i br-golden -o br-golden -m comment --comment "plumb: network golden" -j ACCEPT
-A PLUMB-FORWARD -o plumb0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "plumb: network bridge" -j ACCEPT
-A PLUMB-FORWARD -o plumb0 -m comment --comment "plumb: network bridge" -j PLUMB
-A PLUMB-FORWARD -i plumb0 ! -o plumb0 -m comment --comment "plumb: network bridge" -j ACCEPT
-A PLUMB-FORWARD -i plumb0 -o plumb0 -m comment --comment "plumb: network bridge" -j ACCEPT
-A PLUMB-ISOLATION-STAGE-1 -i br-golden ! -o br-golden -m comment --comment "plumb: network golden" -j PLUMB-ISOLATION-STAGE-2
-A PLUMB-ISOLATION-STAGE-1 -i plumb0 ! -o plumb0 -m comment --comment "plumb: network bridge" -j PLUMB-ISOLATION-STAGE-2
-A PLUMB-ISOLATION-STAGE-1 -m comment --comment "plumb: base" -j RETURN
-A PLUMB-ISOLATION-STAGE-2 -o br-golden -m comment --comment "plumb: network golden" -j DROP
-A PLUMB-ISOLATION-STAGE-2 -o plumb0 -m comment --comment "plumb: network bridge" -j DROP
-A PLUMB-ISOLATION-STAGE-2 -m comment --comment "plumb: base" -j RETURN
-A PLUMB-USER -m comment --comment "plumb: base" -j RETURN
-I FORWARD 1 -m comment --comment "plumb: base" -j PLUMB-USER
-I FORWARD 2 -m comment --comment "plumb: base" -j PLUMB-ISOLATION-STAGE-1
-I FORWARD 3 -m comment --comment "plumb: base" -j PLUMB-FORWARD
COMMIT
*nat
:PLUMB - [0:0]
:PLUMB-POSTROUTING - [0:0]
-A PLUMB-POSTROUTING -s 127.0.0.0/8 -o br-golden -m comment --comment "plumb: network golden" -j MASQUERADE
-A PLUMB-POSTROUTING -s 10.250.0.0/24 ! -o br-golden -m comment --comment "plumb: network golden" -j MASQUERADE
-A PLUMB-POSTROUTING -s 127.0.0.0/8 -o plumb0 -m comment --comment "plumb: network bridge" -j MASQUERADE
-A PLUMB-POSTROUTING -s 172.17.0.0/16 ! -o plumb0 -m comment --comment "plumb: network bridge" -j MASQUERADE
-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "plumb: base" -j PLUMB
-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "plumb: base" -j PLUMB
-I POSTROUTING 1 -m comment --comment "plumb: base" -j PLUMB-POSTROUTING
COMMIT
*raw
:PLUMB-PREROUTING - [0:0]
-A PLUMB-PREROUTING -d 127.0.0.0/8 -i br-golden -m comment --comment "plumb: network golden" -j DROP
-A PLUMB-PREROUTING -d 127.0.0.0/8 -i plumb0 -m comment --comment "plumb: network bridge" -j DROP
-I PREROUTING 1 -m comment --comment "plumb: base" -j PLUMB-PREROUTING
COMMIT
RULES
