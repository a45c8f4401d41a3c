using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds a target's <c>activations</c>: <c>static</c>, <c>dynamic</c>, or <c>{mode: static, dynamic: [nodes]}</c>. A
/// combination the encoder cannot write (run-time activations with 4-bit weights, which MatMulNBits already quantizes
/// per block) is refused here with QB1024, before the fp32 baseline runs.
/// </summary>
internal sealed class ActivationsBinder
{
    /// <summary>The yaml names of <see cref="ActivationMode"/>, in enum order.</summary>
    public static readonly IReadOnlyList<string> ModeNames = ["static", "dynamic"];

    private readonly ConfigReader _r;

    public ActivationsBinder(ConfigReader reader) => _r = reader;

    public ActivationsConfig Bind(ConfigNode node, string path, WeightFormat weights)
    {
        ActivationsConfig bound = node switch
        {
            ConfigScalar s => new ActivationsConfig { Mode = Mode(s, path), Location = s.Location },
            _ => FromMapping(node, path),
        };

        bool anyDynamic = bound.Mode == ActivationMode.Dynamic || bound.DynamicNodes.Count > 0;
        if (anyDynamic && weights.Bits != 8)
        {
            _r.Error(ConfigErrorCodes.DynamicNotWritable,
                $"'{path}' asks for run-time (dynamic) activation quantization, but this target writes {weights.Bits}-bit weights: DynamicQuantizeMatMul takes int8 weights, and 4-bit MatMulNBits already quantizes its activations at run time (accuracy_level 4)",
                "use 'weights: {bits: 8}' with dynamic activations, or remove 'activations' for 4-bit weights", bound.Location);
        }

        return bound;
    }

    private ActivationsConfig FromMapping(ConfigNode node, string path)
    {
        if (_r.AsMapping(node, path) is not { } map)
        {
            return ActivationsConfig.Static;
        }

        _r.CheckKeys(map, QuantizeConfigKeys.Activations, path);
        ActivationMode mode = ConfigReader.Value(map, "mode") is ConfigScalar s ? Mode(s, path + ".mode") : ActivationMode.Static;
        if (ConfigReader.Value(map, "mode") is { } m and not ConfigScalar)
        {
            _r.WrongType(m, path + ".mode", "static or dynamic");
        }

        IReadOnlyList<string> nodes = _r.StringList(map, "dynamic", path + ".dynamic");
        if (mode == ActivationMode.Dynamic && nodes.Count > 0)
        {
            _r.Error(ConfigErrorCodes.Conflict, $"'{path}.dynamic' lists layers to make dynamic, but '{path}.mode' already makes every layer dynamic",
                "remove 'dynamic', or set 'mode: static' to make only the listed layers dynamic", map.Find("dynamic")!.Key.Location);
        }

        return new ActivationsConfig { Mode = mode, DynamicNodes = nodes, Location = map.Location };
    }

    private ActivationMode Mode(ConfigScalar s, string path)
    {
        int i = ModeNames.ToList().IndexOf(s.Value);
        if (i >= 0)
        {
            return (ActivationMode)i;
        }

        _r.Error(ConfigErrorCodes.UnknownValue, $"unknown activation mode '{s.Value}' for '{path}'.{NameSuggester.DidYouMean(s.Value, ModeNames)}",
            $"use one of: {string.Join(", ", ModeNames)}", s.Location);
        return ActivationMode.Static;
    }
}
