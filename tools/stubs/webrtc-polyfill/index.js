'use strict'
// Used only by tests, through bittorrent-tracker's HTTP/UDP client. Any WebRTC use fails loudly.
function unavailable () { throw new Error('WebRTC is not available in otd tests (webrtc-polyfill stub)') }
module.exports = { RTCPeerConnection: unavailable, RTCSessionDescription: unavailable, RTCIceCandidate: unavailable }
