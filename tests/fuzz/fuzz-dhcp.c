/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what ros-network reads off the wire, an IPv4/UDP frame
 * (dhcp_unframe, with and without the UDP checksum) and the DHCP message in
 * it (dhcp_parse), plus a parse of the raw bytes as a bare message. */
#include <stdint.h>
#include <stdlib.h>

#include "../../network/dhcp-proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_reply r;
	dhcp_parse(data, size, &r);
	const uint8_t *payload;
	size_t plen;
	for (int sum = 0; sum < 2; sum++)
		if (dhcp_unframe(data, size, DHCP_CLIENT_PORT, sum, &payload, &plen) == 0)
			dhcp_parse(payload, plen, &r);
	return 0;
}
