using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Abstractions.Passes;

/// <summary>The base class for a pass with typed options; override <see cref="Name"/> and <see cref="Run(IPassContext, TOptions)"/>.</summary>
/// <typeparam name="TOptions">The options class the host binds from the yaml (use <see cref="NoPassOptions"/> for none).</typeparam>
public abstract class QuantizationPass<TOptions> : IQuantizationPass
    where TOptions : class, new()
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public Type OptionsType => typeof(TOptions);

    /// <inheritdoc />
    public virtual IReadOnlyCollection<string> SupportedOps => Array.Empty<string>();

    /// <inheritdoc />
    public virtual bool SupportsDevice(DeviceProfile device) => true;

    /// <summary>Runs the pass with its bound options.</summary>
    public abstract void Run(IPassContext context, TOptions options);

    void IQuantizationPass.Run(IPassContext context, object options) => Run(context, (TOptions)options);
}
