using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// The constant inputs of com.microsoft DynamicQuantizeMatMul (Y = A·dequantize(B) + bias) for a MatMul or Gemm layer:
/// B as int8 codes [K, N] with one symmetric scale per column N (or one for the tensor), and the float bias. Gemm's
/// transB is undone by transposing the codes, its alpha folded into the scales and beta into the bias, so the kernel
/// computes what the float node did.
/// </summary>
/// <param name="Codes">Int8 (or a pass's uint8) codes of B, row-major [K, N].</param>
/// <param name="Type">Storage type of the codes.</param>
/// <param name="K">Rows of B.</param>
/// <param name="N">Columns of B.</param>
/// <param name="Scales">N scales, or one.</param>
/// <param name="ZeroPoints">Zero points in the scales' shape, or null when all are 0 (the kernel's default).</param>
/// <param name="Bias">N bias values, or null without one.</param>
internal sealed record DynamicMatMulWeights(byte[] Codes, ElementType Type, long K, long N, float[] Scales, byte[]? ZeroPoints, float[]? Bias)
{
    /// <summary>Quantizes the weight (and folds the bias) of <paramref name="node"/>, which the selector found dynamic.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3011 for a pass's encoding the kernel cannot read.</exception>
    public static DynamicMatMulWeights For(Node node, GraphIndex index, EncodeOptions options)
    {
        bool gemm = node.OpType == "Gemm";
        bool transB = gemm && node.FindAttribute("transB")?.Int == 1;
        string name = node.Inputs[1];
        TensorValue w = index.Constant(name)!;
        int outputAxis = transB ? 0 : 1;
        QuantizedWeight q;
        if (options.WeightOverrides.TryGetValue(name, out WeightEncoding? chosen))
        {
            q = WeightQuantizer.FromEncoding(name, w.AsReadOnlySpan<float>(), w.Dims, chosen);
            if (q.Type is not (ElementType.Int8 or ElementType.UInt8) || q.BlockSize is not null || (q.Axis is { } a && a != outputAxis))
            {
                throw QuantizationErrors.DynamicNotWritable(node.DisplayName,
                    $"{chosen.Origin ?? "a recipe pass"} encoded its weight as {ElementTypeInfo.OnnxName(q.Type)}{(q.BlockSize is not null ? " in blocks" : string.Empty)}{(q.Axis is { } ax && ax != outputAxis ? $" per slice of axis {ax}" : string.Empty)}; DynamicQuantizeMatMul reads 8-bit codes per column or per tensor");
            }
        }
        else
        {
            int? axis = options.Profile.Kernels.PerChannelWeights && options.PerChannelWeights ? outputAxis : null;
            q = WeightQuantizer.RoundToNearest8(w.AsReadOnlySpan<float>(), w.Dims, axis, WeightGrid.For(options.Profile, 8).SymmetricMax, null);
        }

        // Read once: the fp32 pages of a mapped weight go back to the OS now rather than piling up across the encode.
        Onnx.MappedWeights.Release(w.Data);
        long k = transB ? w.Dims[1] : w.Dims[0];
        long n = transB ? w.Dims[0] : w.Dims[1];
        byte[] codes = q.Codes;
        if (transB)
        {
            codes = new byte[q.Codes.Length];
            for (long r = 0; r < n; r++)
            {
                for (long c = 0; c < k; c++)
                {
                    codes[c * n + r] = q.Codes[r * k + c];
                }
            }
        }

        float alpha = gemm ? node.FindAttribute("alpha")?.Float ?? 1f : 1f;
        float beta = gemm ? node.FindAttribute("beta")?.Float ?? 1f : 1f;
        float[] scales = q.Scales.Select(s => s * alpha).ToArray();
        byte[]? zeroPoints = q.ZeroPoints.Any(z => z != 0) ? q.ZeroPoints : null;
        float[]? bias = null;
        if (gemm && node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            bias = index.Constant(node.Inputs[2])!.AsReadOnlySpan<float>().ToArray().Select(b => b * beta).ToArray();
        }

        return new DynamicMatMulWeights(codes, q.Type, k, n, scales, zeroPoints, bias);
    }
}
