#!/usr/bin/env bash
# Regenerate every committed table in analyses/results/ and figure in paper_figures/ from the
# committed per-run records alone (--from-records: nothing is trained). One line per table;
# each line is also the command that regenerates that table on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
run() { echo "+ $*" >&2; "$PY" "$@" --from-records --in-repo > /dev/null; }

run analyses/rvt_accuracy_table.py --models lenet mlp cnn --datasets mnist-5k --tag cpu_mnist5k
run analyses/rvt_accuracy_table.py --models mlp lenet --datasets fashion-mnist --tag cpu_fashion
run analyses/rvt_accuracy_table.py --models cnn --datasets fashion-mnist --seeds 0 1 2 --epochs 3 --tag cpu_fashion_cnn_e3
run analyses/rvt_accuracy_table.py --models vit --datasets fashion-mnist --seeds 0 1 2 --epochs 3 --batch-size 128 --tag cpu_fashion_vit_e3
run analyses/rvt_accuracy_table.py --models resnet18 --datasets fashion-mnist --seeds 0 --columns origin vortex "fixed permutation" random --epochs 12 --tag cpu_fashion_resnet18
run analyses/augmentation_order.py --tag cpu_fashion
run analyses/augmentation_order.py --models cnn --seeds 0 1 2 --epochs 3 --tag cpu_fashion_cnn_e3
run analyses/augmentation_order.py --models resnet18 --seeds 0 --columns vortex --orders after before --epochs 12 --tag cpu_fashion_resnet18
run analyses/info_vs_accuracy.py --datasets mnist-5k --models lenet mlp --seeds 0 1 --tag cpu_mnist5k
run analyses/info_vs_accuracy.py --datasets fashion-mnist --models mlp --seeds 0 1 2 --epochs 5 --tag cpu_fashion_mlp_e5
run analyses/info_vs_accuracy.py --datasets fashion-mnist --models mlp --seeds 0 1 2 --epochs 5 --augment after before --tag cpu_fashion_mlp_e5_order
run analyses/info_vs_accuracy.py --datasets fashion-mnist --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_mlp_cnn_vit
run analyses/info_vs_accuracy.py --datasets fashion-mnist --models mlp cnn --seeds 0 1 2 --epochs mlp=5 cnn=2 --max-train cnn=10000 --augment after before --tag cpu_fashion_mlp_cnn_order
run analyses/info_vs_accuracy.py --datasets fashion-mnist --models cnn --seeds 0 --epochs 1 --tag cpu_fashion_cnn_60k_e1
run analyses/info_vs_accuracy.py --datasets fashion-mnist --models mlp cnn --seeds 0 1 2 --key-seeds 0 1 2 --epochs mlp=5 cnn=2 --max-train cnn=10000 --partial --tag cpu_fashion_keys
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds more --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_more
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds more --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_more
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds per-image --models mlp cnn --seeds 0 1 2 --epochs mlp=5 cnn=2 --max-train cnn=10000 --tag cpu_fashion_per_image
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds per-image --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_per_image
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds degrade --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_degrade
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds degrade --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_degrade
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds chain --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_chain
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds chain --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_chain
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds cipher --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_cipher
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds cipher --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_cipher
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds edits --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_edits
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds edits --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_edits
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds chaos --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_chaos
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds chaos --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_chaos
run analyses/before_training.py --files chaos_fashion-mnist.txt chaos_mnist-5k.txt --study cpu_fashion_chaos cpu_mnist5k_chaos --tag chaos
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds rowcol-sharpen --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_rowcol_sharpen
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds rowcol-sharpen --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_rowcol_sharpen
run analyses/before_training.py --files rowcol_sharpen_fashion-mnist.txt rowcol_sharpen_mnist-5k.txt --study cpu_fashion_rowcol_sharpen cpu_mnist5k_rowcol_sharpen --tag rowcol_sharpen
run analyses/before_training.py --files rowcol_sharpen_refit_fashion-mnist.txt rowcol_sharpen_refit_mnist-5k.txt --study cpu_fashion_rowcol_sharpen cpu_mnist5k_rowcol_sharpen --tag rowcol_sharpen_refit
run analyses/info_vs_accuracy.py --datasets fashion-mnist --kinds elastic --models mlp cnn vit --seeds 0 1 2 --epochs mlp=5 cnn=2 vit=2 --max-train cnn=10000 vit=10000 --batch-size vit=128 --tag cpu_fashion_elastic
run analyses/info_vs_accuracy.py --datasets mnist-5k --kinds elastic --models lenet mlp --seeds 0 1 --tag cpu_mnist5k_elastic
run analyses/before_training.py --files elastic_fashion-mnist.txt elastic_mnist-5k.txt --study cpu_fashion_elastic cpu_mnist5k_elastic --tag elastic
run analyses/kernel_sensitivity.py --datasets fashion-mnist --n-boot 1000 --tag cpu_fashion
run analyses/precision_check.py --datasets fashion-mnist --models mlp cnn --seeds 0 1 --epochs mlp=5 cnn=2 --max-train cnn=10000 --precisions fp32 bf16 --tag cpu_fashion
run analyses/predictor.py --tag validation_cpu
run analyses/negative_images.py --datasets mnist-5k --epochs 5 --tag cpu_mnist5k
run analyses/negative_images.py --datasets fashion-mnist --epochs 1 --max-images 5000 --pgd-images 500 --tag cpu_fashion
run analyses/negative_images.py --datasets fashion-mnist --seeds 0 1 --epochs 15 --tag cpu_fashion_e15
run analyses/fooling_images.py --setups lenet:mnist-5k --tag cpu_mnist5k
run analyses/fooling_images.py --setups cnn:fashion-mnist --generations 200 --rounds 0 --encrypted none --epochs 1 --tag cpu_fashion
run analyses/fooling_images.py --setups cnn:fashion-mnist --tag cpu_fashion_full
run analyses/key_recovery.py --tag cpu
run analyses/fooling_gap.py --tag cpu --variants "pixinfo recipe, MNIST-5k 4,000" "pixinfo recipe, no augmentation" "Caffe-like, MNIST-5k 4,000" "Caffe-like, MNIST-5k 1,000" "Caffe-like, Fashion-MNIST 60,000" "Caffe LeNet (20-50-500, one ReLU), Caffe-like" "Caffe LeNet, Caffe-like, inputs not standardised" "pixinfo recipe, population 400" "Caffe-like, population 400"
# Figures whose data are not per-run records: the make-run chart from its committed CSV, the
# transform gallery and measures chart (and their CSV) from analyses/results/transform_measures.json,
# the key-recovery galleries by running the seeded attack again (seconds; nothing is trained), and
# the tutorials' figures by running their pages' code (small models on the digits, seconds).
run analyses/score_chart.py --tag mnist5k
run analyses/transform_gallery.py
run analyses/key_recovery_gallery.py --transform permutation:seed=0 --dataset mnist-5k --threat blind --tag mnist5k_permutation
run analyses/key_recovery_gallery.py --transform vortex:authors --dataset fashion-mnist --threat prior --n-images 10000 --tag fashion_vortex_prior
run analyses/tutorial_figures.py
run analyses/benchmarks_page.py --tag cpu
