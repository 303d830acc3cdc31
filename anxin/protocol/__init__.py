"""The one schema of the gateway <-> server uplink, version 1 (docs/protocol.md); both sides import it from here.

- `envelope`: topics, the batch of events a gateway publishes, the server's ack, downlink commands.
- `bodies`: what each event carries by lane (alarm, reading, event, gap), typed, one encode and one decode each.
"""

from anxin.protocol.bodies import AlarmBody, Body, EventBody, GapBody, ReadingBody, decode_body
from anxin.protocol.envelope import (
    ALARM_MARK,
    LANES,
    MAX_BATCH_ID,
    MAX_DEPTH,
    MAX_SEQ,
    MAX_UPLINK_BYTES,
    PREFIX,
    VERSION,
    Ack,
    AlarmAcknowledged,
    Command,
    Lane,
    ProtocolError,
    UplinkBatch,
    UplinkEvent,
    ack_topic,
    carries_alarm,
    cmd_topic,
    decode_ack,
    decode_batch,
    decode_command,
    decode_event_list,
    encode_ack,
    encode_batch,
    encode_command,
    gateway_from_topic,
    nesting,
    server_state_topic,
    state_topic,
    up_topic,
)

__all__ = [
    "ALARM_MARK", "LANES", "MAX_BATCH_ID", "MAX_DEPTH", "MAX_SEQ", "MAX_UPLINK_BYTES", "PREFIX", "VERSION",
    "Ack", "AlarmAcknowledged", "AlarmBody", "Body", "Command", "EventBody", "GapBody", "Lane", "ProtocolError",
    "ReadingBody", "UplinkBatch", "UplinkEvent", "ack_topic", "carries_alarm", "cmd_topic", "decode_ack",
    "decode_batch", "decode_body", "decode_command", "decode_event_list", "encode_ack", "encode_batch",
    "encode_command", "gateway_from_topic", "nesting", "server_state_topic", "state_topic", "up_topic",
]
