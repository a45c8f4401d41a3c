using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Abstractions.Passes;

/// <summary>
/// One step of a target's recipe: rewrites the model and/or chooses weight encodings before the host encodes it.
/// The host finds passes by reflection: every public, non-abstract type in a plugin assembly that implements this
/// interface and has a public parameterless constructor is one pass. Derive from <see cref="QuantizationPass{TOptions}"/>
/// rather than implementing this directly.
/// </summary>
public interface IQuantizationPass
{
    /// <summary>The name a recipe uses after <c>pass:</c>, for example <c>smoothquant</c>; lower-case, unique across plugins.</summary>
    string Name { get; }

    /// <summary>The type the pass's yaml options bind to: public settable properties, snake_case in the yaml.</summary>
    Type OptionsType { get; }

    /// <summary>The op types the pass acts on (for listings and reports), or empty when it is not specific to ops.</summary>
    IReadOnlyCollection<string> SupportedOps { get; }

    /// <summary>Whether the pass can produce a model for <paramref name="device"/>; a recipe naming it for another device is a config error.</summary>
    bool SupportsDevice(DeviceProfile device);

    /// <summary>Runs the pass once on <paramref name="context"/>'s model with options of <see cref="OptionsType"/>.</summary>
    void Run(IPassContext context, object options);
}
