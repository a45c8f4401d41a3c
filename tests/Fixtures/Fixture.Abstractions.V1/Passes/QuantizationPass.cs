using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Abstractions.Passes;

public abstract class QuantizationPass<TOptions> : IQuantizationPass
    where TOptions : class, new()
{
    public abstract string Name { get; }

    public Type OptionsType => typeof(TOptions);

    public virtual IReadOnlyCollection<string> SupportedOps => Array.Empty<string>();

    public virtual bool SupportsDevice(DeviceProfile device) => true;

    public abstract void Run(IPassContext context, TOptions options);

    void IQuantizationPass.Run(IPassContext context, object options) => Run(context, (TOptions)options);
}
