/*
 * LD_PRELOAD shim for the packetdrill agreement check: every TCP socket the wrapped process
 * opens is switched to CUBIC, the congestion control packetdrill's scripts are written for.
 *
 * Why a shim: the scripts set net.ipv4.tcp_congestion_control=cubic, but a kernel only lets a
 * network namespace other than the host's pick a default from tcp_allowed_congestion_control
 * (often "reno bbr"), and widening that list would change the host. A per-socket
 * TCP_CONGESTION needs only CAP_NET_ADMIN, which the checker has, and stays inside the run.
 * tcpcheck does the same for its own sockets.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
	static int (*real_socket)(int, int, int);
	if (!real_socket)
		real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	int fd = real_socket(domain, type, protocol);
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0 && (domain == AF_INET || domain == AF_INET6) && base == SOCK_STREAM &&
	    (protocol == 0 || protocol == IPPROTO_TCP)) {
		static const char cubic[] = "cubic";
		/* Best effort: a kernel without cubic keeps its default, as packetdrill would. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cubic, strlen(cubic));
	}
	return fd;
}
