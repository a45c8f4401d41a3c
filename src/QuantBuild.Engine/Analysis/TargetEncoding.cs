using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Quantization;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// How a target turns into encoder options, session settings and activation ranges: the same rules the run pipeline
/// applies, so analysis and fallback trials measure the model `run` would write.
/// </summary>
public static class TargetEncoding
{
    /// <summary>The encoder options of a target (round-to-nearest; recipe overrides are added by the caller).</summary>
    public static EncodeOptions Options(TargetConfig target) => new()
    {
        Profile = target.Device,
        ExcludedNodeNames = new HashSet<string>(target.Exclude.Nodes, StringComparer.Ordinal),
        ExcludedOpTypes = new HashSet<string>(target.Exclude.OpTypes, StringComparer.Ordinal),
        WeightBits = target.Weights.Bits,
        PerChannelWeights = target.Weights.Granularity != WeightGranularity.PerTensor,
        BlockSize = target.Weights.BlockSize ?? 32,
        FourBitFormat = target.Weights.Format,
        FourBitZeroPoints = target.Weights.ZeroPoint,
        AccuracyLevel = target.Weights.AccuracyLevel,
        Activations = target.Activations.Mode,
        DynamicNodeNames = new HashSet<string>(target.Activations.DynamicNodes, StringComparer.Ordinal),
    };

    /// <summary>
    /// The activations calibration must observe so that any layer of a 4-bit recipe can also be encoded at 8 bits
    /// (integer, activations quantized): the plan at the recipe's bits joined with the 8-bit plan.
    /// </summary>
    public static IReadOnlyList<string> PlanWithEightBitFallback(OnnxModel model, EncodeOptions options)
    {
        IReadOnlyList<string> plan = QdqEncoder.Plan(model, options);
        if (options.WeightBits == 8 || !options.Profile.Kernels.WeightBits.Contains(8))
        {
            return plan;
        }

        var all = new List<string>(plan);
        var seen = new HashSet<string>(plan, StringComparer.Ordinal);
        all.AddRange(QdqEncoder.Plan(model, options with { WeightBits = 8 }).Where(seen.Add));
        return all;
    }

    /// <summary>The session settings the device deploys with.</summary>
    public static SessionOptions Deploy(DeviceProfile device)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.All };
        foreach ((string key, string value) in device.Deployment.SessionConfig)
        {
            options.AddConfigEntry(key, value);
        }

        return options;
    }

    /// <summary>
    /// Activation ranges from calibration by the configured method, for the device's grid; with <c>method: auto</c>,
    /// each tensor's <see cref="RangeChoice"/> goes into <paramref name="choices"/> when given.
    /// </summary>
    public static Dictionary<string, TensorRange> Ranges(CalibrationResult calibrated, CalibrationConfig calibration, DeviceProfile device,
        IDictionary<string, RangeChoice>? choices = null)
    {
        bool symmetric = device.Kernels.SymmetricActivations;
        RangeMethod method = calibration.Method switch
        {
            CalibrationMethod.Percentile => RangeMethod.Percentile,
            CalibrationMethod.Entropy => RangeMethod.Entropy,
            CalibrationMethod.Mse => RangeMethod.Mse,
            CalibrationMethod.Auto => RangeMethod.Auto,
            _ => RangeMethod.MinMax,
        };
        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        foreach ((string name, TensorObserver observer) in calibrated.Observers)
        {
            if (observer.Count == 0)
            {
                // Never computed on the calibration data (an If branch it never took): no range rather than a guessed one.
                continue;
            }

            if (method == RangeMethod.Auto)
            {
                RangeChoice choice = RangeSelector.Choose(observer, symmetric ? 254 : 255, symmetric);
                ranges[name] = choice.Range;
                if (choices is not null)
                {
                    choices[name] = choice;
                }

                continue;
            }

            ranges[name] = RangeSelector.Select(observer, method, calibration.Percentile ?? 99.99, symmetric ? 254 : 255, symmetric);
        }

        return ranges;
    }

    /// <summary>
    /// An int8 per-channel round-to-nearest encoding of a MatMul/Gemm weight: how a layer of a 4-bit recipe is kept at
    /// 8 bits (the encoder then runs it as an integer layer).
    /// </summary>
    public static WeightEncoding EightBit(Node node, int axis, WeightSource weights)
    {
        (float[] values, long[] dims) = weights(node.Inputs[1]);
        int channels = (int)dims[axis];
        long inner = 1;
        for (int i = axis + 1; i < dims.Length; i++)
        {
            inner *= dims[i];
        }

        var scales = new float[channels];
        for (int i = 0; i < values.Length; i++)
        {
            int c = (int)(i / inner % channels);
            scales[c] = Math.Max(scales[c], Math.Abs(values[i]));
        }

        for (int c = 0; c < channels; c++)
        {
            float s = scales[c] / 127f;
            scales[c] = float.IsNormal(s) ? s : 1f;
        }

        return new WeightEncoding { Bits = 8, Type = Abstractions.Tensors.ElementType.Int8, Axis = axis, Scales = scales, Origin = "fallback: 8-bit" };
    }

    /// <summary>Reads a constant weight's float values and shape by name.</summary>
    public delegate (float[] Values, long[] Dims) WeightSource(string name);

    /// <summary>A reader of the model's constant float weights (initializers or Constant outputs).</summary>
    public static WeightSource Weights(OnnxModel model)
    {
        // Weights of layers inside If branches too: a branch's index sees its own constants and its enclosing graphs'.
        List<GraphIndex> scopes = Branches.Walk(new GraphIndex(model)).ToList();
        return name =>
        {
            TensorValue t = scopes.Select(s => s.Constant(name)).FirstOrDefault(c => c is not null) ?? throw new InvalidOperationException($"'{name}' is not a constant of the model.");
            return (t.AsReadOnlySpan<float>().ToArray(), t.Dims);
        };
    }
}
