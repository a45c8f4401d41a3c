using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// What a target's passes told the host through their contexts, in recipe order (a later pass overrides an earlier
/// one): weight encodings, nodes kept in float and activation ranges. Locked: a pass may call its context from
/// several threads.
/// </summary>
internal sealed class RecipeDecisions
{
    private readonly object _lock = new();
    private readonly Dictionary<string, WeightEncoding> _encodings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _float = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorRange> _ranges = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, WeightEncoding> Encodings()
    {
        lock (_lock)
        {
            return new Dictionary<string, WeightEncoding>(_encodings, StringComparer.Ordinal);
        }
    }

    public void SetEncoding(string weight, WeightEncoding encoding)
    {
        lock (_lock)
        {
            _encodings[weight] = encoding;
        }
    }

    public void KeepInFloat(string node, string reason)
    {
        lock (_lock)
        {
            _float[node] = reason;
        }
    }

    public void SetRange(string tensor, TensorRange range)
    {
        lock (_lock)
        {
            _ranges[tensor] = range;
        }
    }

    public PassRunResult Result(OnnxModel model)
    {
        lock (_lock)
        {
            return new PassRunResult(model, new Dictionary<string, WeightEncoding>(_encodings, StringComparer.Ordinal))
            {
                KeptInFloat = new Dictionary<string, string>(_float, StringComparer.Ordinal),
                ActivationRanges = new Dictionary<string, TensorRange>(_ranges, StringComparer.Ordinal),
            };
        }
    }
}
