using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Passes;

/// <summary>Runs any model (fp32, rewritten or partly quantized) in the host's ONNX Runtime.</summary>
public interface IModelRunner
{
    /// <summary>
    /// Runs <paramref name="model"/> once on <paramref name="inputs"/> (samples stacked on axis 0) and returns
    /// <paramref name="outputs"/> (any tensor in the graph, not only graph outputs, or inside an If branch: empty when
    /// the run did not take the branch), or every graph output when null.
    /// </summary>
    IReadOnlyDictionary<string, DenseTensor> Run(OnnxModel model, IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string>? outputs = null);
}
