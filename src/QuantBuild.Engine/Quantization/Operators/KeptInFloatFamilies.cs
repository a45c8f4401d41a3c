namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>The op families without a weight left in float on purpose, each with the reason the report gives.</summary>
internal static class KeptInFloatFamilies
{
    public static IEnumerable<KeptInFloatQuantizer> All()
    {
        yield return new("no integer kernel in ONNX Runtime's CPU provider; computing it in float between quantized neighbours is cheaper than a requantize",
            "HardSigmoid", "HardSwish", "Gelu", "Erf", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Pow", "Div", "Sub", "Neg", "Abs",
            "Softplus", "Elu", "Selu", "PRelu", "Mish", "Sin", "Cos", "Floor", "Ceil", "Round", "Max", "Min", "Sum", "Mean",
            "ReduceMean", "ReduceSum", "ReduceProd", "ReduceL2", "ReduceSumSquare", "LogSoftmax", "CumSum", "Einsum", "TopK");
        yield return new("normalization runs in float: ONNX Runtime fuses it as a float kernel, and quantizing its scale and shift would stop that fusion",
            "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization", "SkipLayerNormalization");
        yield return new("a BatchNormalization that does not follow a Conv/Gemm cannot be folded into one; it runs in fp32",
            "BatchNormalization");
        yield return new("computes shapes, indices, masks or type conversions, not activations",
            "Shape", "Size", "Cast", "CastLike", "ConstantOfShape", "Range", "NonZero", "Equal", "Less", "LessOrEqual", "Greater",
            "GreaterOrEqual", "Not", "And", "Or", "Xor", "ArgMax", "ArgMin", "OneHot", "ScatterND", "ScatterElements", "GatherND",
            "NonMaxSuppression", "Trilu", "DepthToSpace", "SpaceToDepth", "Dropout");
        yield return new("control flow: its subgraphs run in fp32", "If", "Loop", "Scan");
    }
}
