"""The live stream: test picture encoder, HLS playlist reading, stream health, replay timeline."""
