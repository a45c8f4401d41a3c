using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;

namespace Fixture.PackagePlugin;

public sealed class PackagedPass : QuantizationPass<NoPassOptions>
{
    public override string Name => "fixture-package";

    public override void Run(IPassContext context, NoPassOptions options) =>
        context.Model.MetadataProps.Add(new MetadataEntry(Name, "restored"));
}
