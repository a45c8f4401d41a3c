using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// Runs models for passes in ONNX Runtime; tensors that are not graph outputs are exposed as extra outputs first, those
/// inside If branches through their Ifs (a branch the run did not take gives an empty tensor).
/// </summary>
internal sealed class ModelRunner : IModelRunner
{
    public IReadOnlyDictionary<string, DenseTensor> Run(OnnxModel model, IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        var wanted = outputs ?? model.Graph.Outputs.Select(o => o.Name).ToList();
        var fed = wanted.Where(inputs.ContainsKey).ToList();
        List<string> computed = wanted.Where(n => !inputs.ContainsKey(n)).ToList();
        var results = new Dictionary<string, DenseTensor>(StringComparer.Ordinal);
        if (computed.Count > 0)
        {
            using var session = new Calibration.ExposedSession(model, null, computed);
            foreach ((string name, DenseTensor value) in session.Run(inputs, computed))
            {
                results[name] = value;
            }
        }

        foreach (string name in fed)
        {
            results[name] = inputs[name];
        }

        return wanted.ToDictionary(n => n, n => results[n], StringComparer.Ordinal);
    }
}
