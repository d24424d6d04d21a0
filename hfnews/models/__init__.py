"""The RNN and CNN headline classifiers, registered with transformers' Auto classes.

Importing this package lets `AutoConfig` / `AutoModelForSequenceClassification` resolve the `hfnews-rnn` and
`hfnews-cnn` model types, and makes `save_pretrained` copy the configuration and modeling files next to the weights
and write `auto_map` into config.json, so a checkpoint also loads where hfnews is not installed
(`trust_remote_code=True`).
"""

from transformers import AutoConfig, AutoModelForSequenceClassification

from .configuration_news_cnn import NewsCNNConfig
from .configuration_news_rnn import NewsRNNConfig
from .modeling_news_cnn import NewsCNNForSequenceClassification, NewsCNNPreTrainedModel
from .modeling_news_rnn import NewsRNNForSequenceClassification, NewsRNNPreTrainedModel


for _config_class, _model_class in (
    (NewsRNNConfig, NewsRNNForSequenceClassification),
    (NewsCNNConfig, NewsCNNForSequenceClassification),
):
    AutoConfig.register(_config_class.model_type, _config_class, exist_ok=True)
    AutoModelForSequenceClassification.register(_config_class, _model_class, exist_ok=True)
    _config_class.register_for_auto_class()
    _model_class.register_for_auto_class("AutoModelForSequenceClassification")

__all__ = [
    "NewsCNNConfig",
    "NewsCNNForSequenceClassification",
    "NewsCNNPreTrainedModel",
    "NewsRNNConfig",
    "NewsRNNForSequenceClassification",
    "NewsRNNPreTrainedModel",
]
