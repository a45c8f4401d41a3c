using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Onnx;

/// <summary>
/// The QB11xx codes for model-file problems, in one place so docs/errors.md and the code cannot drift apart
/// unnoticed (a test checks every code here is documented).
/// </summary>
internal static class ModelFileErrors
{
    public const string NotFoundCode = "QB1101";
    public const string EmptyOrTruncatedCode = "QB1102";
    public const string NotOnnxCode = "QB1103";
    public const string ExternalFileMissingCode = "QB1104";
    public const string ExternalRangeCode = "QB1105";
    public const string ExternalPathEscapesCode = "QB1106";
    public const string BadTensorDataCode = "QB1107";
    public const string TooLargeCode = "QB1108";
    public const string WriteFailedCode = "QB1109";
    public const string NotATensorFileCode = "QB1110";
    public const string NotRegularFileCode = "QB1111";
    public const string TooDeepCode = "QB1112";

    public static readonly string[] AllCodes =
    [
        NotFoundCode, EmptyOrTruncatedCode, NotOnnxCode, ExternalFileMissingCode, ExternalRangeCode,
        ExternalPathEscapesCode, BadTensorDataCode, TooLargeCode, WriteFailedCode, NotATensorFileCode,
        NotRegularFileCode, TooDeepCode,
    ];

    public static QuantBuildException NotFound(string path) => new(
        NotFoundCode,
        $"Model file '{path}' does not exist.",
        "Check the path (relative paths resolve against the current directory) or export the model first.",
        path);

    public static QuantBuildException Empty(string path) => new(
        EmptyOrTruncatedCode,
        $"Model file '{path}' is empty (0 bytes; a FIFO or socket reads as empty too).",
        "Re-export or re-download the model; an interrupted copy or export leaves an empty file.",
        path);

    public static QuantBuildException Truncated(string path, Exception? inner = null) => new(
        EmptyOrTruncatedCode,
        $"Model file '{path}' ends in the middle of its data (truncated).",
        "Re-export or re-download the model; the file was cut short, for example by an interrupted copy or a Git LFS pointer fetch.",
        path,
        inner: inner);

    public static QuantBuildException NotOnnx(string path, string why, Exception? inner = null) => new(
        NotOnnxCode,
        $"File '{path}' is not an ONNX model ({why}).",
        "Point QuantBuild at the .onnx file itself (not a text, archive, Git LFS pointer or other framework's file); export it with torch.onnx.export or tf2onnx if needed.",
        path,
        inner: inner);

    public static QuantBuildException ExternalFileMissing(string modelPath, string dataPath, string tensor) => new(
        ExternalFileMissingCode,
        $"Model '{modelPath}' keeps tensor '{tensor}' in external data file '{dataPath}', which does not exist.",
        "Copy the model's external data file(s) next to the .onnx file, keeping the names the model refers to.",
        modelPath);

    public static QuantBuildException ExternalRange(string modelPath, string dataPath, string tensor, long offset, long length, long fileLength) => new(
        ExternalRangeCode,
        $"Model '{modelPath}' reads tensor '{tensor}' from bytes {offset}..{offset + length} of '{dataPath}', but that file has only {fileLength} bytes.",
        "The external data file does not belong to this model or is truncated; copy the matching data file again.",
        modelPath);

    public static QuantBuildException ExternalPathEscapes(string modelPath, string location, string tensor) => new(
        ExternalPathEscapesCode,
        $"Model '{modelPath}' points tensor '{tensor}' at external data '{location}', outside the model's folder.",
        "External data must be a relative path inside the model's folder; re-save the model with its data beside it.",
        modelPath);

    public static QuantBuildException ExternalNotReadable(string modelPath, string dataPath, string tensor, string why) => new(
        NotRegularFileCode,
        $"Model '{modelPath}' keeps tensor '{tensor}' in external data '{dataPath}', which cannot be read: {why}.",
        "Make the external data a regular file inside the model's folder (not a FIFO, device, or a symlink to one), keeping the name the model refers to.",
        modelPath);

    public static QuantBuildException NotRegularFile(string path, string why) => new(
        NotRegularFileCode,
        $"Model file '{path}' cannot be read: {why}.",
        "Point QuantBuild at a regular .onnx file (not a FIFO, device, /proc file, or a symlink to one).",
        path);

    public static QuantBuildException TooDeep(string path, int limit, Exception? inner = null) => new(
        TooDeepCode,
        $"Model '{path}' nests subgraphs (If/Loop/Scan bodies) more than {limit} levels deep.",
        "Re-export the model with its control flow flattened; no real model nests subgraphs this deeply, so the file may be damaged.",
        path,
        inner: inner);

    public static QuantBuildException BadTensorData(string path, string tensor, string why) => new(
        BadTensorDataCode,
        $"Model file '{path}' has tensor '{tensor}' whose data is malformed ({why}).",
        "Re-export the model; the tensor's element count, type and stored bytes must agree.",
        path);

    public static QuantBuildException TooLarge(string path, long inlineBytes) => new(
        TooLargeCode,
        $"Model '{path}' would still hold {inlineBytes} bytes inline, over protobuf's 2 GB limit, even with external data.",
        "Lower OnnxSaveOptions.ExternalDataThreshold so more tensors move to the side file; string tensors cannot move, so shrink them.",
        path);

    public static QuantBuildException WriteFailed(string path, Exception inner) => new(
        WriteFailedCode,
        $"Could not write model '{path}': {inner.Message}",
        "Check that the folder exists, is writable and has free space; the previous file, if any, was left unchanged.",
        path,
        inner: inner);

    public static QuantBuildException NotATensorFile(string path, string why, Exception? inner = null) => new(
        NotATensorFileCode,
        $"File '{path}' is not a serialized ONNX tensor QuantBuild can read as a dense tensor ({why}).",
        "Give a TensorProto .pb file holding a numeric tensor, as ONNX test data sets (input_0.pb, output_0.pb) do.",
        path,
        inner: inner);
}
