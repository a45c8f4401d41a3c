using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Plugins.AdaQuant;
using QuantBuild.Plugins.Nupes;
using QuantBuild.Plugins.SmoothQuant;
using QuantBuild.Testing;

namespace QuantBuild.Plugins.ScaleBench;

/// <summary>
/// <c>dotnet run -c Release --project tests/QuantBuild.Plugins.ScaleBench -- IN×OUT[,IN×OUT…] [nupes] [adaquant] [smoothquant]</c>:
/// for each shape, a model <c>y = x · W</c> with W [IN, OUT] (Laplace weights) and 256 calibration samples
/// of 32 tokens whose features are correlated, unequal and carry a few outlier channels, like an LLM's hidden states;
/// then each named pass runs with its defaults (nupes 4-bit, adaquant W4 per channel) and its wall time and log are printed.
/// </summary>
public static class Program
{
    private const int Samples = 256, Tokens = 32;

    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: ScaleBench IN×OUT[,IN×OUT...] [nupes] [adaquant] [smoothquant] [adaquant-iterations=N]");
            return 2;
        }

        string[] passes = args.Skip(1).Where(a => !a.Contains('=', StringComparison.Ordinal)).ToArray();
        int iterations = args.Where(a => a.StartsWith("adaquant-iterations=", StringComparison.Ordinal)).Select(a => int.Parse(a.Split('=')[1], CultureInfo.InvariantCulture)).DefaultIfEmpty(1000).First();
        foreach (string shape in args[0].Split(','))
        {
            string[] parts = shape.Split('x', '×');
            int inputs = int.Parse(parts[0], CultureInfo.InvariantCulture), outputs = int.Parse(parts[1], CultureInfo.InvariantCulture);
            DenseTensor x = Activations(inputs, 11);
            foreach (string pass in passes.Length == 0 ? ["nupes", "adaquant"] : passes)
            {
                OnnxModel model = Model(inputs, outputs, 7);
                using var context = PassTestContext.FromTensors(model, new Dictionary<string, DenseTensor> { ["x"] = x },
                    new PassTestOptions { Weights = new TargetWeightFormat(4, true, null), PassName = pass, BatchSize = 32 });
                var clock = Stopwatch.StartNew();
                switch (pass)
                {
                    case "nupes":
                        new NupesPass().Run(context, new NupesOptions { Bits = 4 });
                        break;
                    case "adaquant":
                        new AdaQuantPass().Run(context, new AdaQuantOptions { Bits = 4, Iterations = iterations });
                        break;
                    case "smoothquant":
                        new SmoothQuantPass().Run(context, new SmoothQuantOptions { Search = new AlphaSearchOptions() });
                        break;
                    default:
                        Console.Error.WriteLine($"unknown pass '{pass}'");
                        return 2;
                }

                double seconds = clock.Elapsed.TotalSeconds;
                foreach (string line in context.Lines.Where(l => !l.StartsWith("debug", StringComparison.Ordinal)))
                {
                    Console.WriteLine($"    {line}");
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT {pass} {inputs}x{outputs}: {seconds:0.0} s wall, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
            }
        }

        return 0;
    }

    // x [256, 32, in]: 16 shared directions with decaying weight (features correlate), per-feature scales spread over
    // a decade (log-uniform), 1 % of the features 20× larger (the outlier channels LLM hidden states have), plus noise.
    private static DenseTensor Activations(int inputs, int seed)
    {
        var random = new Random(seed);
        const int rank = 16;
        var directions = new float[rank * inputs];
        for (int i = 0; i < directions.Length; i++)
        {
            directions[i] = (float)Gaussian(random);
        }

        var scale = new float[inputs];
        for (int i = 0; i < inputs; i++)
        {
            scale[i] = (float)(Math.Pow(10, random.NextDouble() - 0.5) * (random.NextDouble() < 0.01 ? 20 : 1));
        }

        int rows = Samples * Tokens;
        var x = new float[(long)rows * inputs];
        Parallel.For(0, rows, n =>
        {
            var r = new Random(seed * 1_000_003 + n);
            Span<float> row = x.AsSpan(n * inputs, inputs);
            for (int t = 0; t < rank; t++)
            {
                float z = (float)(Gaussian(r) / (1 + t));
                for (int i = 0; i < inputs; i++)
                {
                    row[i] += z * directions[t * inputs + i];
                }
            }

            for (int i = 0; i < inputs; i++)
            {
                row[i] = (row[i] * 0.5f + (float)Gaussian(r)) * scale[i];
            }
        });

        return DenseTensor.FromFloats(x, Samples, Tokens, inputs);
    }

    private static OnnxModel Model(int inputs, int outputs, int seed)
    {
        var random = new Random(seed);
        var w = new float[(long)inputs * outputs];
        for (long i = 0; i < w.LongLength; i++)
        {
            double u = random.NextDouble() - 0.5;
            w[i] = (float)(-0.02 * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)));
        }

        var model = new OnnxModel { IrVersion = 8, ProducerName = "scale-bench" };
        model.OpsetImports.Add(new OpsetImport(string.Empty, 17));
        model.Graph.Name = "layer";
        model.Graph.Inputs.Add(new ValueInfo { Name = "x", Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = Shape(inputs) } });
        model.Graph.Outputs.Add(new ValueInfo { Name = "y", Type = new TensorTypeInfo { ElementType = ElementType.Float } });
        model.Graph.Initializers.Add(TensorValue.FromFloats("w", w, inputs, outputs));
        var node = new Node { Name = "proj", OpType = "MatMul" };
        node.Inputs.AddRange(["x", "w"]);
        node.Outputs.Add("y");
        model.Graph.Nodes.Add(node);
        return model;
    }

    private static TensorShape Shape(int inputs)
    {
        var shape = new TensorShape();
        shape.Dims.AddRange([new Dimension { Param = "n" }, Dimension.Fixed(Tokens), Dimension.Fixed(inputs)]);
        return shape;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
