namespace QuantBuild.Onnx;

/// <summary>
/// A model serialized for ONNX Runtime without its mapped weights: tensors whose bytes are still those of an external
/// data file on disk are written as references into it, everything else inline. Create the session from
/// <see cref="Graph"/> with ORT's <c>session.model_external_initializers_file_folder_path</c> set to
/// <see cref="WeightsFolder"/>; ORT then maps the weights itself and nothing holds a second copy.
/// </summary>
/// <param name="Graph">The serialized ModelProto: the graph plus whatever tensors are not in a file.</param>
/// <param name="WeightsFolder">The folder holding the referenced data file, or null when every tensor is inline.</param>
/// <param name="ReferencedBytes">Bytes left in the data file rather than copied into <see cref="Graph"/>.</param>
public sealed record SessionGraph(byte[] Graph, string? WeightsFolder, long ReferencedBytes);
