using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Tests.Rewrites;

internal static class GraphConstantsForTests
{
    public static TensorValue Int64s(string name, long[] values, params long[] dims) =>
        TensorValue.FromDense(name, DenseTensor.Create(ElementType.Int64, values.AsSpan(), dims));
}
