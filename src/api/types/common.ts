// Wire forms of Calico's numorstring and metav1 scalar types, as they appear in decoded (canonical) JSON.

/** numorstring.Port: a single port (80), a range ("80:90") or a named port ("http"). */
export type Port = number | string

/** numorstring.Protocol: a protocol number (1..255) or a name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite). */
export type Protocol = number | string

/** numorstring.DSCP: a DSCP value (0..63) or a class name (EF, AF11, CS1, ...). */
export type DSCP = number | string

/** metav1.Duration as Go prints it ("1m30s"). */
export type Duration = string

/** k8s intstr.IntOrString. */
export type IntOrString = number | string
